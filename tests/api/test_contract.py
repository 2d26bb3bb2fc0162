"""The OpenAPI document says what the server does (issue 13 item 3): every answer a scenario
across the features gets is held to the document (its status declared, each header it
carries declared for that status, ETag and Location sent where declared, its problem
``code`` listed), If-Match is required exactly where the server answers 428, If-None-Match
and 304 are declared where the server honours them, PATCH bodies show no defaults, and who
may act on a record is said in words."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.api.contract import CODES
from tests.change_request_support import drive as drive_change
from tests.conftest import client_for
from tests.customer_support import CUSTOMERS, contact, if_match, make_customer
from tests.feedback_support import drive as drive_feedback
from tests.handover_support import customer_of_tier, ok, prepare, start
from tests.support import Actors, assert_problem, create_user, unique
from tests.survey_support import invite, make_template

pytestmark = pytest.mark.asyncio(loop_scope="session")

CHECKED_HEADERS = ("ETag", "Location", "Idempotent-Replayed", "Retry-After", "X-Request-Id")


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")


class Conformance:
    """Holds each answer to the operation of the document its request reached."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        # literal paths first: /handovers/batches is not /handovers/{handover_id}
        self.paths = sorted(((p, _pattern(p)) for p in document["paths"]),
                            key=lambda item: item[0].count("{"))
        self.seen: set[tuple[str, str, str]] = set()
        self.failures: list[str] = []

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        for template, pattern in self.paths:
            if pattern.match(path) and method.lower() in self.document["paths"][template]:
                return template, self.document["paths"][template][method.lower()]
        raise AssertionError(f"{method} {path} is not in the document")

    async def check(self, response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        template, operation = self.operation(request.method, request.url.path)
        where = f"{request.method} {template} {response.status_code}"
        self.seen.add((request.method, template, str(response.status_code)))
        declared = operation["responses"].get(str(response.status_code))
        if declared is None:
            self.failures.append(f"{where}: status not declared")
            return
        headers = set(declared.get("headers", {}))
        for name in CHECKED_HEADERS:
            if name in response.headers and name not in headers:
                self.failures.append(f"{where}: sends {name}, not declared")
        for name in ("ETag", "Location"):
            if name in headers and name not in response.headers:
                self.failures.append(f"{where}: declares {name}, does not send it")
        if response.status_code >= 400:
            code = response.json().get("code")
            if code not in declared.get(CODES, []):
                self.failures.append(f"{where}: code {code} not listed")


@pytest.fixture
async def checked(app: FastAPI) -> Any:
    conformance = Conformance(app.openapi())
    async with client_for(app) as client:
        client.event_hooks["response"] = [conformance.check]
        yield client, conformance


async def test_answers_across_the_features_are_what_the_document_says(
        checked: tuple[httpx.AsyncClient, Conformance], actors: Actors) -> None:
    client, conformance = checked
    am, admin = actors.am_east, actors.admin

    # customers: created (Location, ETag), read, changed, refused in the documented ways
    customer = await make_customer(client, am, contacts=[contact(is_primary=True)])
    path = f"{CUSTOMERS}/{customer['id']}"
    read = await client.get(path, headers=am.headers)
    changed = await client.patch(path, headers={**am.headers, **if_match(customer)},
                                 json={"industry": "制造业"})
    assert changed.status_code == 200, changed.text
    assert_problem(await client.patch(path, headers=am.headers, json={"industry": "x"}),
                   428, "precondition_required")
    assert_problem(await client.patch(path, headers={**am.headers, **if_match(customer)},
                                      json={"industry": "x"}), 412, "precondition_failed")
    assert_problem(await client.get(f"{CUSTOMERS}/{customer['id'][:-4]}0000",
                                    headers=am.headers), 404, "not_found")
    assert_problem(await client.post(CUSTOMERS, headers=admin.headers,
                                     json={"name": unique("无主客户")}), 422, "validation_failed")
    assert_problem(await client.get(CUSTOMERS, headers=am.headers, params={"cursor": "x"}),
                   400, "invalid_cursor")
    assert_problem(await client.get(CUSTOMERS, headers=am.headers, params={"colour": "x"}),
                   400, "unknown_query_parameter")
    assert_problem(await client.get(CUSTOMERS), 401, "not_authenticated")
    assert read.status_code == 200
    # a cached copy: the current one is confirmed (304), the one before the change is not
    current = await client.get(path, headers={**am.headers,
                                              "If-None-Match": changed.headers["ETag"]})
    stale = await client.get(path, headers={**am.headers, "If-None-Match": read.headers["ETag"]})
    assert (current.status_code, current.content, stale.status_code) == (304, b"", 200)
    assert current.headers["ETag"] == changed.headers["ETag"]

    # idempotency: a replay says so; the same key for another request is refused
    key = unique("key")
    body = {"name": unique("幂等客户"), "contacts": [contact(is_primary=True)]}
    first = await client.post(CUSTOMERS, headers={**am.headers, "Idempotency-Key": key},
                              json=body)
    again = await client.post(CUSTOMERS, headers={**am.headers, "Idempotency-Key": key},
                              json=body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert_problem(await client.post(CUSTOMERS, headers={**am.headers, "Idempotency-Key": key},
                                     json={**body, "name": "另一个"}), 422,
                   "idempotency_key_reused")

    # a change request through its whole life, and one submitted incomplete
    await drive_change(client, actors, "closed")
    incomplete = await client.post("/api/v1/change-requests", headers=am.headers, json={
        "customer_id": customer["id"], "title": "只有标题"})
    assert incomplete.status_code == 201, incomplete.text
    assert_problem(await client.post(
        f"/api/v1/change-requests/{incomplete.json()['id']}/submit",
        headers={**am.headers, **if_match(incomplete.json())}, json={}),
        409, "precondition_unmet")

    # feedback along its loop; a handover to its transfer
    await drive_feedback(client, am, customer, "confirmed")
    giver, taker = actors.am_east, actors.am_east2
    light = await customer_of_tier(client, giver, "C")
    handover = await start(client, giver, light, taker)
    handover = await prepare(client, actors, handover, light, giver, taker)
    signers = {"handing_over": giver, "receiving": taker,
               "department_head": actors.head_east}
    while handover["missing_signatures"]:
        handover = await ok(client, signers[handover["missing_signatures"][0]], handover,
                            "/sign")
    assert handover["state"] == "transferred"

    # people and the smaller features
    department = await client.post("/api/v1/departments", headers=admin.headers,
                                   json={"name": unique("部门")})
    assert department.status_code == 201, department.text
    risk = await client.post("/api/v1/risks", headers=am.headers, json={
        "customer_id": customer["id"], "title": "付款延迟", "likelihood": 3, "impact": 4})
    article = await client.post("/api/v1/knowledge-articles", headers=actors.pm.headers,
                                json={"kind": "faq", "title": unique("经验"),
                                      "body": "先确认口径"})
    assert (risk.status_code, article.status_code) == (201, 201), (risk.text, article.text)
    user = await create_user(client, admin, actors.east, ["analyst"])
    assert (await client.get(f"/api/v1/users/{user['id']}", headers=admin.headers)
            ).status_code == 200
    assert (await client.get("/api/v1/me", headers=am.headers)).status_code == 200
    template = await make_template(client, admin)
    assert (await invite(client, am, template, customer)).status_code == 201
    key = await client.post("/api/v1/api-keys", headers=admin.headers,
                            json={"name": unique("同步"), "scopes": ["customers:read"]})
    assert key.status_code == 201, key.text

    assert conformance.failures == []
    assert len({(m, p) for m, p, _ in conformance.seen}) >= 30


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, operation) for path, item in document["paths"].items()
            for method, operation in item.items() if path.startswith("/api/")]


async def test_if_match_is_declared_required_exactly_where_the_server_answers_428(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    """Every operation declaring a required If-Match answers 428 without one (its body
    valid or absent, its record unknown: the header is checked first), and no operation
    answers 428 without declaring it."""
    document = app.openapi()
    unknown = "00000000-0000-4000-8000-000000000000"
    required = 0
    for path, method, operation in _operations(document):
        if_match = [p for p in operation.get("parameters", []) if p["name"] == "If-Match"]
        declares = any(p["required"] for p in if_match)
        assert ("428" in operation["responses"]) == declares, f"{method} {path}"
        if not declares or "requestBody" in operation:
            continue  # bodies are validated with If-Match (test_conventions covers them)
        required += 1
        url = re.sub(r"\{[^}]+\}", unknown, path)
        response = await client.request(method, url, headers=actors.admin.headers)
        assert response.status_code in (403, 428), f"{method} {path}: {response.text}"
    assert required >= 5


async def test_patch_bodies_show_no_defaults_and_transitions_say_who_acts(app: FastAPI) -> None:
    """A field left out of a PATCH is kept, so no default is shown for it; every workflow
    action names, in words, who may take it on a given record."""
    document = app.openapi()
    schemas = document["components"]["schemas"]
    patches = {op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
               .rsplit("/", 1)[-1]
               for _, method, op in _operations(document)
               if method == "patch" and "requestBody" in op}
    assert {"CustomerPatch", "ChangeRequestPatch", "RiskPatch"} <= patches
    for name in patches:
        for field, schema in schemas[name]["properties"].items():
            assert "default" not in schema, f"{name}.{field}"
    submit = document["paths"]["/api/v1/change-requests/{cr_id}/submit"]["post"]
    assert "the change's requester" in submit["description"]
    approve = document["paths"][
        "/api/v1/change-requests/{cr_id}/approvals/{step_id}/approve"]["post"]
    assert "current approval step" in approve["description"]
    sign = document["paths"]["/api/v1/handovers/{handover_id}/sign"]["post"]
    assert "signature" in sign["description"]
    create = schemas["ChangeRequestCreate"]["properties"]
    for field in ("description", "reason", "expected_effect", "requested_completion_date"):
        assert "submit" in create[field].get("description", ""), field
    owner = schemas["CustomerCreate"]["properties"]["owner_id"]["description"]
    assert "required" in owner.lower() and "admin" in owner.lower()


async def test_if_none_match_and_304_are_declared_exactly_where_the_server_honours_them(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    """Every GET that sends an ETag takes If-None-Match and declares its 304 (with the
    ETag, no body); nothing else declares either. Those without a record in the path are
    asked: their ETag gets 304, another tag the full answer."""
    conditional = 0
    for path, method, operation in _operations(app.openapi()):
        responses = operation["responses"]
        sends_etag = method == "get" and "ETag" in responses["200"].get("headers", {})
        takes = [p for p in operation.get("parameters", []) if p["name"] == "If-None-Match"]
        assert ("304" in responses) == bool(takes) == sends_etag, f"{method} {path}"
        if not sends_etag:
            continue
        conditional += 1
        assert takes[0]["in"] == "header" and not takes[0]["required"], f"{method} {path}"
        assert "content" not in responses["304"], f"{method} {path}"
        assert {"ETag", "X-Request-Id"} <= set(responses["304"]["headers"]), f"{method} {path}"
        if "{" in path:
            continue
        full = await client.get(path, headers=actors.admin.headers)
        assert full.status_code == 200, f"{path}: {full.text}"
        again = await client.get(path, headers={**actors.admin.headers,
                                                "If-None-Match": full.headers["ETag"]})
        other = await client.get(path, headers={**actors.admin.headers,
                                                "If-None-Match": '"999999"'})
        assert (again.status_code, again.content) == (304, b""), path
        assert other.status_code == 200, path
    assert conditional >= 20


async def test_every_operation_declares_the_headers_it_may_send(app: FastAPI) -> None:
    for path, method, operation in _operations(app.openapi()):
        for status, response in operation["responses"].items():
            headers = response.get("headers", {})
            assert "X-Request-Id" in headers, f"{method} {path} {status}"
            if status in ("429", "503"):
                assert "Retry-After" in headers, f"{method} {path} {status}"
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])):
            ok_status = min(s for s in operation["responses"] if s.startswith("2"))
            assert "Idempotent-Replayed" in operation["responses"][ok_status]["headers"]
