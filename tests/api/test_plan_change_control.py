"""The plan's baseline under change control (domain §5, invariant) through the API on both
engines — the scenario the issue must show: an active plan of a tier-A customer; moving a
milestone directly is refused (409 ``plan_baseline_frozen``); a change request of the same
customer carries the amendment, is approved through the usual chain, the plan's owner
applies it, the milestone moves and the revision cites the request; applying it twice,
applying it before approval, and attaching it to another customer's request are refused;
then a progress report is read through its link with no account, the customer's comment
arrives as feedback, and the revoked link answers 404."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables_plans import plan_amendments, plan_revisions
from tests.change_request_support import (
    HIGH_VALUE,
    SMALL,
    approve_all,
    conclude,
    draft,
    moved,
    panel,
)
from tests.conftest import client_for
from tests.customer_support import make_customer
from tests.db import row_count
from tests.plan_support import (
    PUBLIC_REPORTS,
    active_plan,
    plan_path,
    publish_and_share,
    read_plan,
    ready_plan,
    report_path,
    with_version,
)
from tests.support import Actors, assert_problem, field_errors, list_all

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def approved(client: httpx.AsyncClient, actors: Actors,
                   cr: dict[str, Any]) -> dict[str, Any]:
    """Submitted, assessed by the panel, concluded and approved by the whole chain."""
    cr = await moved(client, actors.am_east, cr, "submit")
    cr = await moved(client, actors.pm, cr, "start_assessment")
    cr = await panel(client, actors, cr)
    concluded = await conclude(client, actors.pm, cr, **SMALL)
    assert concluded.status_code == 200, concluded.text
    return await approve_all(client, actors, concluded.json())


async def propose(client: httpx.AsyncClient, who: Any, plan: dict[str, Any],
                  cr: dict[str, Any], changes: dict[str, Any]) -> httpx.Response:
    return await client.post(plan_path(plan, "/amendments"), headers=who.headers,
                             json={"change_request_id": cr["id"], "changes": changes})


async def test_a_milestone_moves_only_through_an_approved_change_request(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    customer = await make_customer(client, am, **HIGH_VALUE)
    assert customer["tier"]["effective"] == "A"
    plan = await active_plan(client, am, customer)
    milestone = plan["milestones"][1]
    assert milestone["planned_date"] == "2027-05-31"

    # 1. Directly: refused, naming the rule; nothing changes.
    response = await client.patch(plan_path(plan, f"/milestones/{milestone['id']}"),
                                  headers=with_version(am, plan),
                                  json={"planned_date": "2027-07-15"})
    assert_problem(response, 409, "plan_baseline_frozen")
    assert (await read_plan(client, am, plan)) == plan

    # 2. The change request of the same customer carries the amendment on its form.
    cr = await draft(client, am, customer, category="schedule", title="系统上线延期")
    response = await propose(client, am, plan, cr,
                             {"milestone_dates": {milestone["id"]: "2027-07-15"}})
    assert response.status_code == 201, response.text
    amendment = response.json()
    assert amendment["state"] == "proposed" and amendment["change_request_id"] == cr["id"]
    assert amendment["changes"]["milestone_dates"] == {milestone["id"]: "2027-07-15"}

    # Not approved yet: the owner cannot apply it.
    apply_path = plan_path(plan, f"/amendments/{amendment['id']}/apply")
    response = await client.post(apply_path, headers=with_version(am, plan))
    assert_problem(response, 409, "plan_amendment_not_approved")

    # 3. Approved through the usual chain; then someone other than the owner cannot apply.
    cr = await approved(client, actors, cr)
    response = await client.post(apply_path, headers=with_version(actors.head_east, plan))
    assert_problem(response, 403, "action_not_permitted")

    # 4. The owner applies it: the milestone moves and revision 1 cites the request.
    response = await client.post(apply_path, headers=with_version(am, plan))
    assert response.status_code == 200, response.text
    amended = response.json()
    assert amended["revision"] == 1 and amended["version"] == plan["version"] + 1
    assert [m["planned_date"] for m in amended["milestones"]] == ["2027-02-01", "2027-07-15"]

    revisions = (await client.get(plan_path(plan, "/revisions"), headers=am.headers)).json()
    first, second = revisions["revisions"]
    assert first["number"] == 0 and first["change_request_id"] is None
    assert [m["planned_date"] for m in first["content"]["milestones"]] == [
        "2027-02-01", "2027-05-31"]
    assert second["number"] == 1 and second["change_request_id"] == cr["id"]
    assert second["amendment_id"] == amendment["id"] and second["created_by"] == am.id
    assert second["summary"] == {"milestones": [{"id": milestone["id"], "title": "系统上线",
                                                 "from": "2027-05-31", "to": "2027-07-15"}]}
    assert revisions["current"] == second["content"]

    listed = (await client.get(plan_path(plan, "/amendments"), headers=am.headers)).json()
    assert [(a["state"], a["revision"], a["applied_by"]) for a in listed] == [
        ("applied", 1, am.id)]

    # 5. Twice: refused, nothing more recorded.
    response = await client.post(apply_path, headers=with_version(am, amended))
    assert_problem(response, 409, "plan_amendment_already_applied")
    assert await row_count(app, plan_revisions, plan_id=uuid.UUID(plan["id"])) == 2

    timeline = await list_all(client, f"/api/v1/customers/{customer['id']}/timeline",
                              am.headers)
    events = [e for e in timeline if e["entity_id"] == plan["id"]]
    assert [e["type"] for e in reversed(events)][-3:] == [
        "plan.activated", "plan.amendment_proposed", "plan.amended"]
    assert events[0]["data"]["change_request_id"] == cr["id"]
    assert events[0]["data"]["revision"] == 1

    # 6. A progress report is published and read through its link with no account; the
    # customer's comment arrives as feedback on the plan; revoked, the link answers 404.
    shared = await publish_and_share(client, am, plan)
    link = PUBLIC_REPORTS + shared["token"]
    async with client_for(app, "192.0.2.44") as customer_side:
        read = await customer_side.get(link)
        assert read.status_code == 200, read.text
        assert [m["planned_date"] for m in read.json()["milestone_status"]] == [
            "2027-02-01", "2027-07-15"]
        commented = await customer_side.post(link + "/comments",
                                             json={"comment": "延期可以接受，请提前告知"})
        assert commented.status_code == 201, commented.text
    feedback = await client.get(f"/api/v1/feedback/{commented.json()['feedback_id']}",
                                headers=am.headers)
    assert feedback.json()["plan_id"] == plan["id"]
    revoked = await client.post(report_path(shared, "/revoke-share"),
                                headers=with_version(am, shared))
    assert revoked.status_code == 200, revoked.text
    async with client_for(app, "192.0.2.44") as customer_side:
        assert_problem(await customer_side.get(link), 404, "plan_report_link_unknown")


async def test_an_amendment_rides_only_on_an_open_form_of_the_same_customer(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    plan = await active_plan(client, am)
    milestone = plan["milestones"][0]
    changes = {"milestone_dates": {milestone["id"]: "2027-03-01"}}
    before = await row_count(app, plan_amendments)

    other = await draft(client, am, await make_customer(client, am))
    assert field_errors(await propose(client, am, plan, other, changes)) == {
        "/change_request_id": "change_request_other_customer"}

    customer = {"id": plan["customer_id"]}
    submitted = await moved(client, am, await draft(client, am, customer), "submit")
    assert_problem(await propose(client, am, plan, submitted, changes), 409,
                   "plan_amendment_form_closed")

    cr = await draft(client, am, customer)
    assert field_errors(await propose(client, am, plan, cr, {})) == {
        "/changes": "amendment_empty"}
    assert field_errors(await propose(client, am, plan, cr, {
        "budget_planned": {milestone["id"]: "1.00"}})) == {
        f"/changes/budget_planned/{milestone['id']}": "budget_line_unknown"}
    assert await row_count(app, plan_amendments) == before

    assert (await propose(client, am, plan, cr, changes)).status_code == 201
    assert_problem(await propose(client, am, plan, cr, changes), 409, "plan_amendment_exists")


async def test_a_rejected_change_is_never_applied(client: httpx.AsyncClient,
                                                  actors: Actors) -> None:
    am = actors.am_east
    plan = await active_plan(client, am)
    cr = await draft(client, am, {"id": plan["customer_id"]})
    line = plan["budget_lines"][0]
    response = await propose(client, am, plan, cr, {
        "budget_planned": {line["id"]: "350000.00"},
        "add_milestones": [{"title": "试运行", "planned_date": "2027-06-15"}],
        "scope_statement": "上线监管报表模块、移动审批与试运行"})
    amendment = response.json()
    cr = await moved(client, am, cr, "cancel", "客户撤回")
    response = await client.post(plan_path(plan, f"/amendments/{amendment['id']}/apply"),
                                 headers=with_version(am, plan))
    assert_problem(response, 409, "plan_amendment_not_approved")
    assert (await read_plan(client, am, plan))["budget_lines"][0]["planned"] == "300000.00"


async def test_a_draft_is_agreed_freely_and_needs_no_amendment(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    plan = await ready_plan(client, am)
    cr = await draft(client, am, {"id": plan["customer_id"]})
    assert_problem(await propose(client, am, plan, cr, {"scope_statement": "x"}), 409,
                   "plan_not_active")
