"""A manager reads their own row of the account-manager report (issue 18, item 3), even
where a colleague's customer is shared with the department and so readable to them; the
customer report, which counts what the caller may read, does count the shared customer."""

from __future__ import annotations

from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables_feedback import customer_health
from tests.change_request_support import customer_of
from tests.report_support import figures, insert_rows, local, report, team
from tests.support import Actors

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_shared_customer_stays_in_its_owners_row(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    people = await team(client, actors.admin)
    mine = await customer_of(client, people.am1)
    shared = await customer_of(client, people.am2, shared_with_department=True)
    assert shared["shared_with_department"] is True
    await insert_rows(app, customer_health, [
        {"customer_id": UUID(c["id"]), "score": score, "below_threshold": below,
         "computed_at": local(2026, 11, 20, 12)}
        for c, score, below in ((mine, 800, False), (shared, 300, True))])

    seen = figures(await report(client, people.am1, "/api/v1/reports/account-managers"))
    assert {key.split("/")[0] for _, key, _ in seen} == {people.am1.id}
    assert seen[("customers", people.am1.id, "count")] == (1, None)
    assert seen[("health", people.am1.id, "mean")] == (80.0, 1)
    assert seen[("health", people.am1.id, "below_threshold")][1] == 1

    head = figures(await report(client, people.head, "/api/v1/reports/account-managers",
                                department_id=people.department_id))
    assert head[("customers", people.am2.id, "count")] == (1, None)
    assert head[("health", people.am2.id, "mean")] == (30.0, 1)

    readable = figures(await report(client, people.am1, "/api/v1/reports/customers"))
    assert readable[("total", "all", "count")] == (2, None)
