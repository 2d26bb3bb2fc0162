"""The OpenAPI document is a contract: the committed copy matches the app, every error is
documented as problem+json, the main operations carry examples and both ways to sign in
are declared (api-conventions: "The OpenAPI document ... is complete")."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cli import OPENAPI_PATH, render_openapi
from tests import conftest

ROOT = Path(__file__).resolve().parents[2]
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
METHODS = {"get", "post", "put", "patch", "delete"}
OPERATION_ID = re.compile(r"^[a-z_]+\.[a-z_]+$")


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document of an app built exactly as ``accord openapi`` builds it (no database
    is touched: the URL only has to be valid)."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('openapi') / 'unused.db'}"
    application = conftest.test_app(conftest.test_settings(url))
    try:
        return application.openapi()
    finally:
        asyncio.run(application.state.engines.dispose())


def _operations(document: dict[str, Any],
                prefix: str = "/api/v1") -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        if path.startswith(prefix):
            for method, operation in item.items():
                if method in METHODS:
                    yield path, method, operation


def _parameters(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", [])}


def test_committed_document_matches_the_app(document: dict[str, Any]) -> None:
    committed = (ROOT / OPENAPI_PATH).read_text(encoding="utf-8")
    assert committed == render_openapi(document), (
        "openapi/openapi.json is out of date: run `accord openapi` and commit the result")


def test_every_schema_has_a_name_of_its_own(document: dict[str, Any]) -> None:
    """Two models of one name make FastAPI fall back to module paths
    (``app__api__v1__schemas__handovers__StepOut``), and client generators then drop or
    mistype operations. Generators also turn names into class names, so two names that
    differ only in case or underscores would collide there."""
    names = list(document["components"]["schemas"])
    assert [name for name in names if "__" in name] == []
    class_names = [re.sub(r"[^a-z0-9]", "", name.lower()) for name in names]
    assert sorted(n for n in class_names if class_names.count(n) > 1) == []


def test_operation_ids_are_short_stable_and_unique(document: dict[str, Any]) -> None:
    """``<tag>.<name>`` (``customers.create``): what generated clients name their methods."""
    ids = [operation["operationId"] for _, _, operation in _operations(document, prefix="/")]
    assert len(ids) >= 100
    assert [i for i in ids if not OPERATION_ID.match(i) or len(i) > 40] == []
    assert sorted(i for i in ids if ids.count(i) > 1) == []


def test_every_v1_error_response_is_problem_json(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) >= {"type", "title", "status", "detail", "code"}
    operations = list(_operations(document))
    assert len(operations) >= 20
    for path, method, operation in operations:
        errors = {s: r for s, r in operation["responses"].items() if int(s) >= 400}
        where = f"{method.upper()} {path}"
        assert {"400", "401", "422", "500"} <= errors.keys(), where
        # a page for a browser (the survey form) answers a refused link as a page too
        page = "text/html" in operation["responses"].get("200", {}).get("content", {})
        for status, response in errors.items():
            content = {k: v for k, v in response["content"].items()
                       if not (page and k == "text/html")}
            assert content == {"application/problem+json": {"schema": PROBLEM_REF}}, (
                f"{where} {status}")
            assert response["description"], f"{where} {status}"


def test_statuses_follow_from_what_an_operation_takes(document: dict[str, Any]) -> None:
    """A path id can be missing (404), a required If-Match absent (428), any If-Match
    stale (412), and an Idempotency-Key can still be running (409)."""
    for path, method, operation in _operations(document):
        statuses = set(operation["responses"])
        where = f"{method.upper()} {path}"
        if "{" in path:
            assert "404" in statuses, where
        if_match = [p for p in operation.get("parameters", []) if p["name"] == "If-Match"]
        if if_match:
            assert "412" in statuses, where
        assert ("428" in statuses) == any(p["required"] for p in if_match), where
        if "Idempotency-Key" in _parameters(operation):
            assert "409" in statuses, where
    sign_in = document["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert {"401", "429"} <= sign_in.keys()


def _schema(document: dict[str, Any], ref_or_schema: dict[str, Any]) -> dict[str, Any]:
    ref = ref_or_schema.get("$ref")
    if ref is None:
        return ref_or_schema
    return document["components"]["schemas"][ref.rsplit("/", 1)[-1]]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("path", "media_type", "required"), [
    ("/api/v1/users", "application/json",
     {"username", "display_name", "email", "password", "department_id", "roles"}),
    ("/api/v1/departments", "application/json", {"name"}),
    ("/api/v1/auth/token", "application/x-www-form-urlencoded", {"username", "password"}),
])
def test_main_operations_carry_a_complete_request_example(
        document: dict[str, Any], path: str, media_type: str, required: set[str]) -> None:
    content = document["paths"][path]["post"]["requestBody"]["content"][media_type]
    schema = _schema(document, content["schema"])
    examples = schema.get("examples", []) + ([content["example"]] if "example" in content else [])
    assert examples, f"POST {path} has no request example"
    for example in examples:
        assert required <= example.keys() <= schema["properties"].keys()


def test_both_ways_to_authenticate_are_declared(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    oauth = next(s for s in schemes.values() if s["type"] == "oauth2")
    assert oauth["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    api_key = next(s for s in schemes.values() if s["type"] == "apiKey")
    assert (api_key["in"], api_key["name"]) == ("header", "X-API-Key")
    me = document["paths"]["/api/v1/me"]["get"]
    declared = {name for requirement in me["security"] for name in requirement}
    assert declared == set(schemes)
