"""Progress reports (进展报告) and their shared link through the API on both engines: a
draft is edited, publishing freezes it and its computed milestone status; the link is
unguessable (only its SHA-256 hash is stored), read-only and customer-facing (no internal
notes, no people of ours), expires, is revocable (then 404), and is rate-limited per address;
the customer's comment arrives as a feedback item on the plan."""

from __future__ import annotations

import hashlib
import random
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables_plans import plan_reports
from tests.conftest import ClientWith, client_for
from tests.customer_support import if_match
from tests.db import rows
from tests.plan_support import (
    PUBLIC_REPORTS,
    active_plan,
    plan_path,
    publish_and_share,
    ready_plan,
    report_of,
    report_path,
    with_version,
)
from tests.support import Actors, TestClock, assert_problem, field_errors, versioned

pytestmark = pytest.mark.asyncio(loop_scope="session")
PUBLIC = PUBLIC_REPORTS


async def published_and_shared(client: httpx.AsyncClient, actors: Actors, days: int = 14
                               ) -> tuple[dict[str, Any], dict[str, Any]]:
    plan = await active_plan(client, actors.am_east)
    return plan, await publish_and_share(client, actors.am_east, plan, days)


async def test_a_draft_changes_until_published_then_never(client: httpx.AsyncClient,
                                                          actors: Actors) -> None:
    am = actors.am_east
    plan = await active_plan(client, am)
    report = await report_of(client, am, plan)
    assert report["state"] == "draft" and report["allowed_actions"] == ["publish"]
    assert [(m["title"], m["status"], m["on_time"]) for m in report["milestone_status"]] == [
        ("需求确认", "pending", None), ("系统上线", "pending", None)]
    response = await client.patch(report_path(report), headers=with_version(am, report),
                                  json={"issues": "无", "period_end": "2027-01-30"})
    report = versioned(response)
    assert (report["issues"], report["period_end"]) == ("无", "2027-01-30")
    # The first milestone is done before publishing: the status is computed from it.
    milestone = plan["milestones"][0]
    response = await client.patch(plan_path(plan, f"/milestones/{milestone['id']}"),
                                  headers=with_version(am, plan),
                                  json={"status": "done", "actual_date": "2027-01-28"})
    plan = response.json()
    response = await client.post(report_path(report, "/publish"),
                                 headers=with_version(am, report))
    report = versioned(response)
    assert report["state"] == "published" and report["published_by"] == am.id
    assert report["milestone_status"][0] == {
        "title": "需求确认", "planned_date": "2027-02-01", "actual_date": "2027-01-28",
        "status": "done", "on_time": True, "overdue": False}
    assert report["allowed_actions"] == ["share"]
    response = await client.patch(report_path(report), headers=with_version(am, report),
                                  json={"issues": "改一下"})
    assert_problem(response, 409, "plan_report_published")
    response = await client.post(report_path(report, "/publish"),
                                 headers=with_version(am, report))
    assert_problem(response, 409, "transition_not_allowed")
    # Later progress does not rewrite what was published.
    second = plan["milestones"][1]
    await client.patch(plan_path(plan, f"/milestones/{second['id']}"),
                       headers=with_version(am, plan), json={"status": "in_progress"})
    again = versioned(await client.get(report_path(report), headers=am.headers))
    assert again["milestone_status"] == report["milestone_status"]


async def test_reports_need_a_running_plan_and_a_period(client: httpx.AsyncClient,
                                                        actors: Actors) -> None:
    am = actors.am_east
    draft = await ready_plan(client, am)
    response = await client.post(plan_path(draft, "/reports"), headers=am.headers, json={
        "period_start": "2027-01-01", "period_end": "2027-01-31"})
    assert_problem(response, 409, "plan_not_active")
    plan = await active_plan(client, am)
    response = await client.post(plan_path(plan, "/reports"), headers=am.headers, json={
        "period_start": "2027-02-01", "period_end": "2027-01-31"})
    assert field_errors(response) == {"/period_end": "before_start"}
    assert_problem(await client.get(plan_path(plan, "/reports"),
                                    headers=actors.am_west.headers), 404, "not_found")


async def test_the_customer_reads_the_link_without_an_account(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    plan, shared = await published_and_shared(client, actors)
    token = shared["token"]
    assert shared["link"] == PUBLIC + token and len(token) >= 43
    assert shared["shared"] is True
    [stored] = await rows(app, plan_reports, id=uuid.UUID(shared["id"]))
    assert stored.share_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(tuple(stored))

    async with client_for(app, "198.51.100.7") as customer:
        response = await customer.get(PUBLIC + token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["plan_title"] == plan["title"]
    assert body["completed_work"] == "完成需求调研与蓝图设计"
    assert set(body) == {"customer_name", "plan_title", "period_start", "period_end",
                         "completed_work", "issues", "next_steps", "milestone_status",
                         "published_at", "acknowledged_at", "link_expires_at"}
    text = response.text
    assert "客户预算偏紧" not in text and actors.am_east.id not in text
    assert "@" not in text  # no e-mail of ours
    # read-only: nothing to change through the link
    async with client_for(app, "198.51.100.7") as customer:
        assert (await customer.patch(PUBLIC + token, json={})).status_code == 405
    assert_problem(await client.get(PUBLIC + "x" * 43), 404, "plan_report_link_unknown")


async def test_the_customer_acknowledges_and_comments_as_feedback(
        client: httpx.AsyncClient, actors: Actors) -> None:
    plan, shared = await published_and_shared(client, actors)
    token = shared["token"]
    response = await client.post(PUBLIC + token + "/acknowledge", json={"name": "王总"})
    assert response.status_code == 200, response.text
    first = response.json()["acknowledged_at"]
    assert first is not None
    again = await client.post(PUBLIC + token + "/acknowledge", json={"name": "李工"})
    assert again.json()["acknowledged_at"] == first  # the first acknowledgement counts
    seen = versioned(await client.get(report_path(shared), headers=actors.am_east.headers))
    assert seen["acknowledged_by"] == "王总"

    response = await client.post(PUBLIC + token + "/comments",
                                 json={"comment": "上线时间请再确认", "name": "王总"})
    assert response.status_code == 201, response.text
    feedback_id = response.json()["feedback_id"]
    fb = await client.get(f"/api/v1/feedback/{feedback_id}", headers=actors.am_east.headers)
    assert fb.status_code == 200, fb.text
    item = fb.json()
    assert (item["plan_id"], item["customer_id"], item["channel"], item["state"]) == (
        plan["id"], plan["customer_id"], "web", "received")
    assert "上线时间请再确认" in item["summary"] and "王总" in item["summary"]
    assert item["owner_id"] == actors.am_east.id
    assert field_errors(await client.post(PUBLIC + token + "/comments",
                                          json={"comment": ""}))


async def test_a_revoked_link_answers_404(client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    _, shared = await published_and_shared(client, actors)
    token = shared["token"]
    assert (await client.get(PUBLIC + token)).status_code == 200
    response = await client.post(report_path(shared, "/revoke-share"),
                                 headers={**am.headers, **if_match(shared)})
    revoked = versioned(response)
    assert revoked["shared"] is False and revoked["share_revoked_at"] is not None
    for method, suffix, body in (("GET", "", None), ("POST", "/acknowledge", {}),
                                 ("POST", "/comments", {"comment": "还在吗"})):
        response = await client.request(method, PUBLIC + token + suffix, json=body)
        assert_problem(response, 404, "plan_report_link_unknown")
    response = await client.post(report_path(revoked, "/revoke-share"),
                                 headers=with_version(am, revoked))
    assert_problem(response, 409, "transition_not_allowed")
    # Sharing again gives a new link; the old one stays dead.
    response = await client.post(report_path(revoked, "/share"),
                                 headers=with_version(am, revoked), json={})
    renewed = versioned(response)
    assert renewed["token"] != token
    assert (await client.get(PUBLIC + renewed["token"])).status_code == 200
    assert (await client.get(PUBLIC + token)).status_code == 404


async def test_an_expired_link_answers_404(client: httpx.AsyncClient, actors: Actors,
                                           clock: TestClock) -> None:
    _, shared = await published_and_shared(client, actors, days=1)
    token = shared["token"]
    assert (await client.get(PUBLIC + token)).status_code == 200
    clock.advance(days=1, seconds=1)
    try:
        assert_problem(await client.get(PUBLIC + token), 404, "plan_report_link_unknown")
    finally:
        clock.advance(days=-1, seconds=-1)


async def test_the_link_is_rate_limited_per_address(client_with: ClientWith,
                                                    actors: Actors) -> None:
    """Wrong tokens count too, so guessing is as slow as reading."""
    async with client_with(plan_report_attempts_per_window=3) as c:
        _, shared = await published_and_shared(c, actors)
        app = c._transport.app  # type: ignore[attr-defined]
        address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(256)}"
        async with client_for(app, address) as guesser:
            assert (await guesser.get(PUBLIC + "y" * 43)).status_code == 404
            for _ in range(2):
                assert (await guesser.get(PUBLIC + shared["token"])).status_code == 200
            limited = await guesser.get(PUBLIC + shared["token"])
            assert_problem(limited, 429, "too_many_requests")
            assert int(limited.headers["retry-after"]) >= 1
        async with client_for(app, address) as same:
            assert (await same.get(PUBLIC + shared["token"])).status_code == 429
        async with client_for(app, "203.0.113.9") as other:  # another address still reads
            assert (await other.get(PUBLIC + shared["token"])).status_code == 200
