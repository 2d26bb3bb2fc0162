"""The customer summaries the customer and account-manager reports sum stay equal to the
exact aggregate over the customers, their health and their churn events after each of the app's own
paths that change them: create, stage change, archive, merge, contact erasure, the owner
moved by a handover's transfer, health computed by the scheduled check, and a batched
import. On an app of its own, so the comparison covers the whole database."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
from fastapi import FastAPI

from tests.change_request_support import HIGH_VALUE
from tests.customer_summary_support import assert_summaries_exact
from tests.customer_support import CUSTOMERS, contact, credit_code, if_match, make_customer
from tests.handover_support import prepare, sign_all, start
from tests.import_support import csv_bytes, imported
from tests.support import unique, versioned
from tests.survey_support import own_team

MAPPING = ('{"编号": "external_id", "公司名称": "name", "信用代码": "credit_code", '
           '"负责人": "owner"}')


async def _matches(app: FastAPI, after: str) -> dict[str, Any]:
    return await assert_summaries_exact(app.state.engines.read, after)


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
    assert sum(counts["customer_summary"].values()) == 4

    risky = await _post(client, f"{CUSTOMERS}/{risky['id']}/stage",
                        {**am.headers, **if_match(risky)},
                        {"stage": "churned", "churn_reason": "price",
                         "churn_note": "预算削减"})
    counts = await _matches(fresh_app, "stage change")
    assert sum(counts["customer_churn_days"].values()) == 1

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
    assert counts["customer_health_summary"]  # the check wrote health to count

    h = await start(client, head, moving, am2)
    h = await prepare(client, actors, h, moving, am, am2)
    h = await sign_all(client, h, am, am2, head)
    counts = await _matches(fresh_app, "handover transfer")
    assert UUID(am2.id) in {k[1] for k in counts["customer_health_summary"]}  # health moved

    me = am.username
    data = csv_bytes([["编号", "公司名称", "信用代码", "负责人"],
                      [unique("r"), unique("导入"), credit_code(), me],
                      [unique("r"), unique("导入"), credit_code(), me]])
    job = await imported(client, fresh_app, am, ("p.csv", data), mapping=MAPPING,
                         system="crm", mode="upsert")
    assert job["state"] == "completed" and job["counts"]["created"] == 2, job
    counts = await _matches(fresh_app, "import")
    # first, risky, moving and the two imported
    assert sum(counts["customer_summary"].values()) == 5
