"""The committed OpenAPI document is what client teams generate from, so it is tested the way
they use it (issue 13): it validates as OpenAPI, openapi-python-client and openapi-typescript
generate from it without a single warning (and the TypeScript compiles), and a short
scenario runs through the generated Python client against the real app."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openapi_spec_validator import validate

from app.cli import OPENAPI_PATH
from tests import contract_tools
from tests.change_request_support import SMALL, assessment, form
from tests.customer_support import contact
from tests.feedback_support import body as feedback_body
from tests.support import PASSWORD, Actor, Actors

DOCUMENT = contract_tools.ROOT / OPENAPI_PATH
PACKAGE = "accord_client"  # openapi-python-client's name for a document titled "Accord"


def _run(command: list[str | Path], cwd: Path, path: Path) -> str:
    """Run a generator; its whole output, which must say nothing is wrong."""
    environment = {**os.environ, "PATH": f"{path}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([str(part) for part in command], cwd=cwd,  # noqa: S603 - pinned tools
                          env=environment, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def test_the_document_is_valid_openapi() -> None:
    validate(json.loads(DOCUMENT.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def python_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The package openapi-python-client generates (with its ruff post-hooks), imported."""
    program = contract_tools.python_generator()
    where = tmp_path_factory.mktemp("python-client")
    output = _run([program, "generate", "--path", DOCUMENT, "--meta", "none",
                   "--fail-on-warning"], where, program.parent)
    assert "warning" not in output.lower(), output
    assert "skipping" not in output.lower(), output
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_typescript_types_generate_and_compile(tmp_path: Path) -> None:
    generator, tsc = contract_tools.typescript_generator()
    types = tmp_path / "accord.d.ts"
    output = _run([generator, DOCUMENT, "--output", types], tmp_path, generator.parent)
    assert "warn" not in output.lower() and "error" not in output.lower(), output
    assert '"customers.create"' in types.read_text(encoding="utf-8")
    _run([tsc, "--noEmit", "--strict", types], tmp_path, tsc.parent)


class Sdk:
    """The generated client for one caller: ``call("customers", "create", ...)`` runs
    ``accord_client.api.customers.customers_create.asyncio_detailed``."""

    def __init__(self, package: ModuleType, app: FastAPI, token: str | None = None) -> None:
        self.models = importlib.import_module(f"{package.__name__}.models")
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        arguments: dict[str, Any] = {"base_url": "http://accord.test",
                                     "httpx_args": {"transport": transport}}
        self.client = (package.AuthenticatedClient(token=token, **arguments) if token
                       else package.Client(**arguments))

    def model(self, name: str, values: dict[str, Any]) -> Any:
        return getattr(self.models, name).from_dict(values)

    async def call(self, tag: str, name: str, *args: Any, status: int = 200,
                   **kwargs: Any) -> Any:
        module = importlib.import_module(f"{PACKAGE}.api.{tag}.{tag}_{name}")
        response = await module.asyncio_detailed(*args, client=self.client, **kwargs)
        assert response.status_code == status, response.content
        assert type(response.parsed).__name__ != "Problem", response.parsed
        return response.parsed


def _if_match(record: Any) -> str:
    return f'"{record.version}"'


async def test_a_scenario_runs_through_the_generated_python_client(
        python_client: ModuleType, app: FastAPI, actors: Actors) -> None:
    """Sign in, a customer created and read, a change request from draft to approved, a
    feedback item and a handover read, each answer parsed into the generated models."""
    anonymous = Sdk(python_client, app)
    signed_in = await anonymous.call("auth", "token", body=anonymous.model(
        "TokenForm", {"username": actors.am_east.username, "password": PASSWORD}))
    am = Sdk(python_client, app, signed_in.access_token)

    def sdk(who: Actor) -> Sdk:
        return Sdk(python_client, app, who.token)

    created = await am.call("customers", "create", status=201, body=am.model(
        "CustomerCreate", {"name": "合同客户示例", "contacts": [contact(is_primary=True)]}))
    customer = await am.call("customers", "get", created.id)
    assert (customer.name, customer.version) == ("合同客户示例", created.version)

    cr = await am.call("change_requests", "create", status=201, body=am.model(
        "ChangeRequestCreate", {"customer_id": str(customer.id), **form()}))
    transition = am.model("TransitionIn", {"comment": ""})
    cr = await am.call("change_requests", "submit", cr.id, body=transition,
                       if_match=_if_match(cr))
    pm = sdk(actors.pm)
    cr = await pm.call("change_requests", "start_assessment", cr.id, body=transition,
                       if_match=_if_match(cr))
    for expert in (pm, sdk(actors.tech)):
        await expert.call("change_requests", "assess", cr.id, status=201,
                          body=expert.model("AssessmentIn", assessment()))
    cr = await pm.call("change_requests", "get", cr.id)
    cr = await pm.call("change_requests", "conclude", cr.id, if_match=_if_match(cr),
                       body=pm.model("ConclusionIn", {
                           "currency": "CNY", "schedule_days": 20, "recommendation": "proceed",
                           "summary": "评估通过", **SMALL}))
    [step] = cr.approval_steps
    cr = await sdk(actors.head_east).call("change_requests", "approve_step", cr.id, step.id,
                                          body=transition, if_match=_if_match(cr))
    assert cr.state == "approved"

    feedback = await am.call("feedback", "create", status=201, body=am.model(
        "FeedbackCreate", feedback_body({"id": str(customer.id)})))
    assert (await am.call("feedback", "get", feedback.id)).channel == "phone"

    handover = await am.call("handovers", "start", status=201, body=am.model(
        "HandoverCreate", {"customer_id": str(customer.id),
                           "to_manager_id": actors.am_east2.id, "reason": "reassignment"}))
    read = await am.call("handovers", "get", handover.id)
    assert (read.customer_id, read.steps[0].name) == (customer.id, handover.steps[0].name)
