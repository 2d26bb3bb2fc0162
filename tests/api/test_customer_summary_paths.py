"""The customer summaries the customer and account-manager reports sum stay equal to the
exact aggregate over the live customers and their health after each of the app's own
paths that change them: create, stage change, archive, merge, contact erasure, the owner
moved by a handover's transfer, health computed by the scheduled check, and a batched
import. On an app of its own, so the comparison covers the whole database."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.repositories.tables_customer_summary import customer_health_summary, customer_summary
from app.repositories.tables_customers import customers
from app.repositories.tables_feedback import customer_health
from tests.change_request_support import HIGH_VALUE
from tests.customer_support import CUSTOMERS, contact, credit_code, if_match, make_customer
from tests.handover_support import prepare, sign_all, start
from tests.import_support import csv_bytes, imported
from tests.support import unique, versioned
from tests.survey_support import own_team

C, H = customers.c, customer_health.c
KEYS = (C.department_id, C.owner_id, C.shared_with_department, C.tier, C.stage,
        C.integrity_score)
HEALTH_KEYS = (C.department_id, C.owner_id, C.shared_with_department, H.score,
               H.below_threshold)
MAPPING = ('{"编号": "external_id", "公司名称": "name", "信用代码": "credit_code", '
           '"负责人": "owner"}')


async def _counts(app: FastAPI) -> dict[str, dict[Any, int]]:
    live = (C.archived_at.is_(None), C.merged_into.is_(None))
    s, hs = customer_summary.c, customer_health_summary.c
    async with app.state.engines.read.connect() as conn:
        async def of(stmt: Any) -> dict[Any, int]:
            return {tuple(r[:-1]): int(r[-1]) for r in await conn.execute(stmt)}
        return {
            "exact": await of(select(*KEYS, func.count()).where(*live).group_by(*KEYS)),
            "summary": await of(select(s.department_id, s.owner_id, s.shared_with_department,
                                       s.tier, s.stage, s.integrity_score, s.n)
                                .where(s.n != 0)),
            "exact_health": await of(
                select(*HEALTH_KEYS, func.count())
                .select_from(customers.join(customer_health, H.customer_id == C.id))
                .where(*live).group_by(*HEALTH_KEYS)),
            "health": await of(select(hs.department_id, hs.owner_id,
                                      hs.shared_with_department, hs.score,
                                      hs.below_threshold, hs.n).where(hs.n != 0))}


async def _matches(app: FastAPI, after: str) -> dict[str, dict[Any, int]]:
    counts = await _counts(app)
    assert counts["summary"] == counts["exact"], after
    assert counts["health"] == counts["exact_health"], after
    return counts


async def _post(client: httpx.AsyncClient, path: str, headers: dict[str, str],
                json: Any = None) -> dict[str, Any]:
    return versioned(await client.post(path, headers=headers, json=json))


async def test_each_path_that_changes_customers_keeps_the_summary_exact(
        fresh_app: FastAPI) -> None:
    client, actors = await own_team(fresh_app)
    am, am2, head = actors.am_east, actors.am_east2, actors.head_east
    first = await make_customer(client, am, contacts=[contact()], **HIGH_VALUE)
    risky = await make_customer(client, am, stage="at_risk", shared_with_department=True)
    spare = await make_customer(client, am, stage="active")
    moving = await make_customer(client, am, contacts=[contact()])
    counts = await _matches(fresh_app, "create")
    assert sum(counts["exact"].values()) == 4

    risky = await _post(client, f"{CUSTOMERS}/{risky['id']}/stage",
                        {**am.headers, **if_match(risky)},
                        {"stage": "churned", "churn_reason": "price",
                         "churn_note": "预算削减"})
    await _matches(fresh_app, "stage change")

    spare = await _post(client, f"{CUSTOMERS}/{spare['id']}/archive",
                        {**am.headers, **if_match(spare)})
    await _matches(fresh_app, "archive")

    source = await make_customer(client, am, stage="active")
    first = await _post(client, f"{CUSTOMERS}/{first['id']}/merge",
                        {**am.headers, **if_match(first)},
                        {"source_id": source["id"], "source_version": source["version"]})
    await _matches(fresh_app, "merge")

    person = first["contacts"][0]
    await _post(client, f"{CUSTOMERS}/{first['id']}/contacts/{person['id']}/erase",
                {**am.headers, **if_match(person)})
    await _matches(fresh_app, "contact erasure")

    checked = await client.post(f"{CUSTOMERS}/health-checks", headers=actors.admin.headers)
    assert checked.status_code == 200, checked.text
    counts = await _matches(fresh_app, "health computed")
    assert counts["exact_health"]  # the check wrote health to count

    h = await start(client, head, moving, am2)
    h = await prepare(client, actors, h, moving, am, am2)
    h = await sign_all(client, h, am, am2, head)
    counts = await _matches(fresh_app, "handover transfer")
    assert UUID(am2.id) in {k[1] for k in counts["exact_health"]}  # its health moved too

    me = am.username
    data = csv_bytes([["编号", "公司名称", "信用代码", "负责人"],
                      [unique("r"), unique("导入"), credit_code(), me],
                      [unique("r"), unique("导入"), credit_code(), me]])
    job = await imported(client, fresh_app, am, ("p.csv", data), mapping=MAPPING,
                         system="crm", mode="upsert")
    assert job["state"] == "completed" and job["counts"]["created"] == 2, job
    counts = await _matches(fresh_app, "import")
    assert sum(counts["exact"].values()) == 5  # first, risky, moving and the two imported
