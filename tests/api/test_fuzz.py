"""Schemathesis over the whole OpenAPI document, signed in as an administrator: whatever
the generated (valid or invalid) request, the app never answers 5xx, and every answer has
a documented status, content type and body shape (the document is the contract).

Schemathesis drives the ASGI app from its own event-loop thread, so on each engine the app
gets a database and engines of its own (the session app's connections belong to pytest's
loop). ``ACCORD_FUZZ_EXAMPLES`` raises the examples per operation for a deeper run.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks
from schemathesis.python import asgi

from app.domain.access.roles import Role
from app.domain.access.users import User
from app.services.people import NewUser
from app.services.ports import RequestContext
from tests import conftest
from tests.support import PASSWORD, unique

# Per operation: 25 keeps the run on both engines under a minute; raise it to dig deeper.
MAX_EXAMPLES = int(os.environ.get("ACCORD_FUZZ_EXAMPLES", "25"))
CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance,
          checks.response_headers_conformance]
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Seed:
    admin: str  # username
    ids: dict[str, str]  # path parameter -> an id that exists


async def _seed(setup: FastAPI) -> Seed:
    """An administrator, their department and one more user, made through the use cases
    as ``accord create-admin`` makes them."""
    people = setup.state.services.people
    system = RequestContext(None, "fuzz-setup")

    async def user(role: Role, department_id: UUID) -> User:
        return await people.create_user(system, NewUser(
            username=unique("fuzz"), display_name="测试", email=f"{unique('f')}@example.cn",
            password=PASSWORD, department_id=department_id, roles=frozenset({role})))

    try:
        department = await people.create_department(system, unique("总部"), "")
        admin = await user(Role.ADMIN, department.id)
        target = await user(Role.ACCOUNT_MANAGER, department.id)
        return Seed(admin.username, {"department_id": str(department.id),
                                     "user_id": str(target.id)})
    finally:
        await setup.state.engines.dispose()


@pytest.fixture(scope="module")
def fuzz_app(db_engine: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, Seed]]:
    for database in conftest.make_database(db_engine, tmp_path_factory.mktemp("fuzz")):
        settings_ = conftest.test_settings(database.url, log_level="CRITICAL")
        seed = asyncio.run(_seed(conftest.test_app(settings_)))
        yield conftest.test_app(settings_), seed
        # The app's lifespan runs on schemathesis' loop; ending it disposes the engines there.
        asgi.shutdown_lifespans()


@pytest.fixture(scope="module")
def api_schema(fuzz_app: tuple[FastAPI, Seed]) -> schemathesis.BaseSchema:
    application, _ = fuzz_app
    loaded = schemathesis.openapi.from_asgi("/openapi.json", application)
    # Credentials come from admin_headers; generated ones would only test sign-in failure.
    loaded.config.generation.update(with_security_parameters=False)
    return loaded


@pytest.fixture(scope="module")
def admin_headers(api_schema: schemathesis.BaseSchema,
                  fuzz_app: tuple[FastAPI, Seed]) -> dict[str, str]:
    """Signs in through the API, on the same client and loop the fuzzer uses."""
    _, seed = fuzz_app
    sign_in = api_schema["/api/v1/auth/token"]["POST"].Case(
        body={"username": seed.admin, "password": PASSWORD}, media_type=FORM)
    response = sign_in.call()
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_no_operation_breaks_its_contract(api_schema: schemathesis.BaseSchema,
                                          admin_headers: dict[str, str],
                                          fuzz_app: tuple[FastAPI, Seed],
                                          subtests: pytest.Subtests) -> None:
    """Every operation the app serves, each in a subtest of its own: valid and invalid
    data mixed, and, where the path names a seeded record, requests that reach it."""
    _, seed = fuzz_app
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        with subtests.test(msg=operation.label):
            _fuzz(operation, admin_headers, seed.ids)


def _fuzz(operation: schemathesis.APIOperation, headers: dict[str, str],
          known: dict[str, str]) -> None:
    strategies = [operation.as_strategy(GenerationMode.POSITIVE),
                  operation.as_strategy(GenerationMode.NEGATIVE)]
    names = {p.name for p in operation.path_parameters}
    if names and names <= known.keys():
        # The first change of a seeded record (version 1) goes through; the rest are stale.
        fresh = {"If-Match": '"1"'} if any(h.name == "If-Match" for h in operation.headers) else {}
        strategies.append(operation.as_strategy(
            GenerationMode.POSITIVE, path_parameters={n: known[n] for n in names},
            headers=fresh or None))
    cases = st.one_of(strategies)

    @given(case=cases)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    fuzz()
