"""One answer for one thing (issue 13 item 12): an amount reads the same on the answer to
the write and on a later read; report figures are rounded by one rule; the audit log
stores a missing deputy as null; every handover action takes If-Match; planned_date is
the planned transfer (follow-ups count from the real one); an Idempotency-Key compares
the parsed request and the If-Match it was sent on."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx
import pytest

from app.api.v1.schemas.feedback import IntervalOut, ResponseRateOut, ShrinkageOut, ShrunkOut
from app.api.v1.schemas.handovers import Figures
from tests.change_request_support import conclude, draft, drive, panel, path_of, read_cr
from tests.customer_support import CUSTOMERS, contact, if_match, make_customer
from tests.handover_support import customer_of_tier, ok, post, prepare, start
from tests.support import Actors, TestClock, assert_problem, audit_entries, unique

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_an_amount_reads_the_same_on_the_write_and_on_the_read(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    created = await make_customer(client, am, annual_revenue="120000")
    read = (await client.get(f"{CUSTOMERS}/{created['id']}", headers=am.headers)).json()
    assert created["annual_revenue"] == read["annual_revenue"] == "120000.00"

    cr = await panel(client, actors, await drive(client, actors, "assessing"))
    concluded = await conclude(client, actors.pm, cr, cost="80000", likelihood=2, impact=2)
    assert concluded.status_code == 200, concluded.text
    again = await read_cr(client, actors.pm, concluded.json())
    assert concluded.json()["estimated_cost"] == again["estimated_cost"] == "80000.00"
    assert all(re.fullmatch(r"\d+\.\d{2}", a["cost"]) for a in again["assessments"])


async def test_report_figures_follow_one_rounding_rule() -> None:
    """Figures two decimals, shares (0 to 1) three, whichever report they are in."""
    third, two_thirds = 1 / 3, 2 / 3
    assert ShrunkOut(raw=third, shrunk=two_thirds, weight=1 / 7).model_dump(mode="json") == {
        "raw": 0.33, "shrunk": 0.67, "weight": 0.143}
    assert ShrinkageOut(overall=100 * third, k=2 / 3, k_source="x", explanation="").model_dump(
        mode="json")["overall"] == 33.33
    assert IntervalOut(low=-third, high=two_thirds).model_dump(mode="json") == {
        "low": -0.33, "high": 0.67}
    assert ResponseRateOut(rate=two_thirds, responses=2, n=3, low_confidence=True
                           ).model_dump(mode="json")["rate"] == 0.667
    figures = Figures(count=3, by_state={}, transferred=3, median_days_to_transfer=10 / 3,
                      findings_per_handover=third, overdue_follow_ups=0)
    assert (figures.model_dump(mode="json")["median_days_to_transfer"],
            figures.model_dump(mode="json")["findings_per_handover"]) == (3.33, 0.33)


async def test_the_audit_log_stores_no_deputy_as_null(
        client: httpx.AsyncClient, actors: Actors) -> None:
    cr = await drive(client, actors, "approved")
    entries = await audit_entries(client, actors.auditor, "change_request", cr["id"])
    decided = [e for e in entries if "on_behalf_of" in (e.get("after") or {})]
    assert decided and all(e["after"]["on_behalf_of"] is None for e in decided), decided


async def test_every_handover_action_takes_if_match(
        client: httpx.AsyncClient, actors: Actors) -> None:
    """Required where the state moves or a signature is given; optional where a record is
    added, and refused there too when stale."""
    giver, taker = actors.am_east, actors.am_east2
    customer = await customer_of_tier(client, giver, "B")
    h = await start(client, giver, customer, taker)
    assert_problem(await post(client, giver, h, "/start-preparation", versioned=False),
                   428, "precondition_required")
    stale = {**h, "version": h["version"] - 1 if h["version"] > 1 else h["version"] + 5}
    body = {"stakeholder": "receiving_manager", "channel": "email"}
    assert_problem(await post(client, giver, stale, "/notifications", body), 412,
                   "precondition_failed")
    h = await ok(client, giver, h, "/notifications", body)  # current If-Match: taken
    h = await prepare(client, actors, h, customer, giver, taker)  # without: taken
    assert_problem(await post(client, taker, {**h, "version": h["version"] + 7},
                              "/findings", {"item": h["checklist"][0]["key"],
                                            "text": "合同扫描件缺页"}),
                   412, "precondition_failed")
    assert_problem(await post(client, giver, h, "/sign", versioned=False), 428,
                   "precondition_required")


async def test_planned_date_is_the_planned_transfer_and_follow_ups_count_from_the_real_one(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    giver, taker = actors.am_east, actors.am_east2
    customer = await customer_of_tier(client, giver, "C")
    today = clock.now().date()
    planned = (today - timedelta(days=30)).isoformat()
    h = await start(client, giver, customer, taker, planned_date=planned)
    assert (h["planned_date"], h["transfer_overdue"]) == (planned, True)
    h = await prepare(client, actors, h, customer, giver, taker)
    while h["missing_signatures"]:
        signer = {"handing_over": giver, "receiving": taker,
                  "department_head": actors.head_east}[h["missing_signatures"][0]]
        h = await ok(client, signer, h, "/sign")
    assert h["state"] == "transferred" and h["transfer_overdue"] is False
    assert h["follow_up_due"] > today.isoformat()  # from the transfer, not from the plan
    later = await start(client, taker, customer, giver,
                        planned_date=(today + timedelta(days=30)).isoformat())
    assert later["transfer_overdue"] is False


async def test_an_idempotency_key_compares_the_parsed_request_and_its_if_match(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    key = unique("key")
    fields = {"name": unique("顺序客户"), "industry": "制造业",
              "contacts": [contact(is_primary=True)]}
    headers = {**am.headers, "Idempotency-Key": key, "Content-Type": "application/json"}
    first = await client.post(CUSTOMERS, headers=headers,
                              content=json.dumps(fields, ensure_ascii=False))
    reordered = dict(reversed(list(fields.items())))
    again = await client.post(CUSTOMERS, headers=headers,
                              content=json.dumps(reordered, indent=2, ensure_ascii=False))
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]

    cr = await draft(client, am, first.json())
    key = unique("key")
    submitted = await client.post(path_of(cr, "/submit"), json={}, headers={
        **am.headers, "Idempotency-Key": key, **if_match(cr)})
    assert submitted.status_code == 200, submitted.text
    on_another_version = await client.post(path_of(cr, "/submit"), json={}, headers={
        **am.headers, "Idempotency-Key": key, **if_match(submitted.json())})
    assert_problem(on_another_version, 422, "idempotency_key_reused")
