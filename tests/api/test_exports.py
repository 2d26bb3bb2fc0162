"""Bulk export (issue 17 item 4): the list's filters and record scope, CSV with a BOM or
JSON Lines, the file for its caller only and only until it expires, and an export
re-imported in upsert mode changing nothing."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
from fastapi import FastAPI

from tests.change_request_support import draft
from tests.customer_support import contact, credit_code, make_customer
from tests.feedback_support import record
from tests.import_support import EXPORTS, imported
from tests.support import Actor, Actors, TestClock, assert_problem, unique


async def exported(client: httpx.AsyncClient, app: FastAPI, who: Actor,
                   **body: Any) -> tuple[dict[str, Any], httpx.Response]:
    response = await client.post(EXPORTS, headers=who.headers, json=body)
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["Location"] == f"{EXPORTS}/{job['id']}"
    await app.state.services.exports.run_queued()
    job = (await client.get(f"{EXPORTS}/{job['id']}", headers=who.headers)).json()
    assert job["state"] == "completed", job
    return job, await client.get(job["download"], headers=who.headers)


async def tagged_customers(client: httpx.AsyncClient, who: Actor, tag: str) -> list[dict]:
    return [
        await make_customer(client, who, credit_code=credit_code(), tags=[tag, "华东"],
                            industry="制造业", region="上海市", annual_revenue="1250000.50",
                            strategic_importance=4, external_refs={"zoho": unique("z")},
                            custom_attributes={"来源": "展会", "等级": 2},
                            contacts=[contact("周敏", title="财务总监",
                                              emails=[{"address": f"{unique('z')}@ex.cn",
                                                       "verified": True}]),
                                      contact("吴强")]),
        await make_customer(client, who, tags=[tag], kind="individual", name=unique("个人"))]


async def test_a_customer_export_re_imported_in_upsert_mode_changes_nothing(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    tag = unique("导出")
    made = await tagged_customers(client, actors.am_east, tag)
    job, response = await exported(client, app, actors.am_east, entity="customers",
                                   filters={"tag": tag})
    assert job["rows"] == 2 and response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {r["id"] for r in rows} == {c["id"] for c in made}
    first = next(r for r in rows if r["id"] == made[0]["id"])
    assert first["owner"] == actors.am_east.username
    assert [c["name"] for c in json.loads(first["contacts"])] == ["周敏", "吴强"]
    second = next(r for r in rows if r["id"] == made[1]["id"])
    assert second["contacts"] == "[]"  # a customer without contacts has an empty list
    again = await imported(client, app, actors.am_east, ("customers.csv", response.content),
                           preset="accord", mode="upsert")
    assert {k: v for k, v in again["counts"].items() if v} == {
        "read": 2, "valid": 2, "unchanged": 2}, again["error"]
    for customer in made:
        now = (await client.get(f"/api/v1/customers/{customer['id']}",
                                headers=actors.am_east.headers)).json()
        assert now["version"] == customer["version"] == 1
        assert now == {**customer, "allowed_stages": now["allowed_stages"]}


async def test_json_lines_keep_record_scope(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    tag = unique("范围")
    made = await tagged_customers(client, actors.am_east, tag)
    app.state.services.exports.page_size = 1  # every page boundary is crossed
    try:
        _, response = await exported(client, app, actors.am_east, entity="customers",
                                     format="jsonl", filters={"tag": tag})
    finally:
        app.state.services.exports.page_size = 1000
    lines = [json.loads(x) for x in response.text.splitlines()]
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert sorted(x["id"] for x in lines) == sorted(c["id"] for c in made)
    assert {x["id"]: x["tags"] for x in lines}[made[0]["id"]] == sorted([tag, "华东"])
    _, outside = await exported(client, app, actors.am_west, entity="customers",
                                format="jsonl", filters={"tag": tag})
    assert outside.text == ""
    _, bare = await exported(client, app, actors.head_east, entity="customers",
                             include_contacts=False, filters={"tag": tag})
    assert "contacts" not in bare.content.decode("utf-8-sig").splitlines()[0]


async def test_the_file_is_for_its_caller_only_and_only_until_it_expires(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors, clock: TestClock) -> None:
    queued = await client.post(EXPORTS, headers=actors.am_east.headers,
                               json={"entity": "customers", "filters": {"tag": unique("x")}})
    job = queued.json()
    assert job["download"] is None
    not_ready = await client.get(f"{EXPORTS}/{job['id']}/file",
                                 headers=actors.am_east.headers)
    assert_problem(not_ready, 409, "export_not_ready")
    await app.state.services.exports.run_queued()
    path = f"{EXPORTS}/{job['id']}/file"
    assert (await client.get(path, headers=actors.am_east.headers)).status_code == 200
    for other in (actors.am_east2, actors.admin):
        assert_problem(await client.get(path, headers=other.headers), 404, "not_found")
    clock.advance(hours=25)
    assert_problem(await client.get(path, headers=actors.am_east.headers), 410,
                   "export_expired")
    await app.state.services.exports.run_queued()  # removes the expired file
    assert_problem(await client.get(path, headers=actors.am_east.headers), 410,
                   "export_expired")


async def test_change_requests_and_feedback_export_with_their_filters(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    customer = await make_customer(client, actors.am_east, contacts=[contact()])
    cr = await draft(client, actors.am_east, customer)
    fb = await record(client, actors.am_east, customer)
    _, crs = await exported(client, app, actors.am_east, entity="change_requests",
                            format="jsonl", filters={"customer_id": customer["id"]})
    assert [json.loads(x)["id"] for x in crs.text.splitlines()] == [cr["id"]]
    _, items = await exported(client, app, actors.am_east, entity="feedback",
                              filters={"customer_id": customer["id"]})
    rows = list(csv.DictReader(io.StringIO(items.content.decode("utf-8-sig"))))
    assert [(r["id"], r["type"], r["state"]) for r in rows] == [
        (fb["id"], "complaint", "received")]
    _, none = await exported(client, app, actors.am_west, entity="feedback",
                             filters={"customer_id": customer["id"]})
    assert len(none.content.decode("utf-8-sig").splitlines()) == 1  # the header only
