"""Periodic jobs run by one worker at a time (a lease row), the worker's figures in
/metrics and its heartbeat in /readyz, and who may manage webhook endpoints."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import httpx
from fastapi import FastAPI

from app.repositories.search import Fts5Search
from app.repositories.unit_of_work import SqlUnitOfWorkFactory
from app.services.jobs import JOBS, Job, JobRunner
from app.worker.registry import JOBS as REGISTERED
from tests.support import Actor, TestClock, actor, assert_problem, unique
from tests.worker.conftest import drain, emit, subscribe, unique_type
from tests.worker.receiver import Receiver


def _runner(app: FastAPI, clock: TestClock, holder: str) -> JobRunner:
    return JobRunner(SqlUnitOfWorkFactory(app.state.engines, clock, Fts5Search()), clock,
                     holder)


async def test_two_workers_never_run_the_same_job_at_once(wapp: FastAPI) -> None:
    clock = TestClock()
    ran: list[str] = []

    def job(holder: str) -> Job:
        async def run(_ctx: object) -> int:
            ran.append(holder)
            await asyncio.sleep(0.3)
            return 1
        return Job(unique("job"), timedelta(minutes=5), run)

    first, second = job("a"), job("b")
    second = Job(first.name, first.every, second.run)
    results = await asyncio.gather(_runner(wapp, clock, "a").run(first),
                                   _runner(wapp, clock, "b").run(second))

    assert len(ran) == 1 and sorted(r is None for r in results) == [False, True]
    # Not due again for five minutes, unless forced (accord escalate).
    assert await _runner(wapp, clock, "b").run(second) is None
    assert (await _runner(wapp, clock, "b").run(second, force=True)).outcome == "ok"
    clock.advance(minutes=5)
    assert (await _runner(wapp, clock, "a").run(first)).count == 1


async def test_a_lease_left_by_a_dead_worker_runs_out(wapp: FastAPI) -> None:
    clock = TestClock()
    name = unique("job")
    uow = SqlUnitOfWorkFactory(wapp.state.engines, clock, Fts5Search())
    async with uow(JOBS) as u:  # a worker took the lease and died
        assert await u.jobs.acquire(name, "dead", clock.now(),
                                    clock.now() + timedelta(minutes=15),
                                    None)
        await u.commit()

    async def run(_ctx: object) -> int:
        return 7

    job = Job(name, timedelta(minutes=5), run)
    assert await _runner(wapp, clock, "alive").run(job, force=True) is None
    clock.advance(minutes=15, seconds=1)
    assert (await _runner(wapp, clock, "alive").run(job, force=True)).count == 7


async def test_a_failing_job_is_recorded_and_released(wapp: FastAPI,
                                                      wclient: httpx.AsyncClient) -> None:
    clock = TestClock()

    async def broken(_ctx: object) -> int:
        raise RuntimeError("calendar missing")

    job = Job(unique("broken"), timedelta(minutes=5), broken)
    run = await _runner(wapp, clock, "a").run(job)
    assert (run.outcome, run.error) == ("error", "RuntimeError: calendar missing")
    again = await _runner(wapp, clock, "b").run(job, force=True)  # the lease was released
    assert again is not None
    metrics = (await wclient.get("/metrics")).text
    assert f'accord_job_runs_total{{job="{job.name}",outcome="error"}} 2.0' in metrics


def test_the_registry_holds_every_periodic_job() -> None:
    assert [j.name for j in REGISTERED] == [
        "escalate_overdue_approvals", "escalate_overdue_follow_ups",
        "announce_feedback_breaches", "send_automatic_surveys", "check_customer_health",
        "announce_overdue_contacts", "announce_training_lapses",
        "send_reminders", "send_pending_emails", "prune_webhook_log"]


def _gauge(metrics: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", metrics, re.M)
    assert match, name
    return float(match.group(1))


async def test_metrics_show_the_backlog_its_age_deliveries_and_job_runs(
        wapp: FastAPI, wclient: httpx.AsyncClient, wadmin: Actor, receiver: Receiver,
        worker_clock: TestClock) -> None:
    await drain(wapp)
    family = unique_type()
    await subscribe(wclient, wadmin, receiver.url(f"/{family}"), [f"{family}.*"])
    await emit(wapp, f"{family}.waiting")
    worker_clock.advance(seconds=30)
    try:
        before = (await wclient.get("/metrics")).text
        assert _gauge(before, "accord_outbox_backlog") >= 1
        assert _gauge(before, "accord_outbox_oldest_unpublished_age_seconds") >= 30
        await drain(wapp)
    finally:
        worker_clock.advance(seconds=-30)
    after = (await wclient.get("/metrics")).text
    assert _gauge(after, "accord_outbox_backlog") == 0
    assert _gauge(after, "accord_outbox_oldest_unpublished_age_seconds") == 0
    assert re.search(r'^accord_webhook_deliveries\{state="delivered"\} [1-9]', after, re.M)
    assert re.search(r'^accord_webhook_delivery_attempts_total\{outcome="succeeded"\} [1-9]',
                     after, re.M)
    assert re.search(r'^accord_job_runs_total\{job="escalate_overdue_approvals",'
                     r'outcome="ok"\} [1-9]', after, re.M)


async def test_readyz_reports_a_worker_that_stopped_beating(
        wapp: FastAPI, wclient: httpx.AsyncClient, worker_clock: TestClock) -> None:
    status = wapp.state.services.worker_status
    await status.beat("readyz-worker")
    try:
        ready = (await wclient.get("/readyz")).json()
        assert ready["worker"] == "ok" and ready["worker_seen_at"] is not None
        worker_clock.advance(seconds=121)
        try:
            stale = await wclient.get("/readyz")
        finally:
            worker_clock.advance(seconds=-121)
        assert stale.status_code == 200  # the API still serves; the worker is reported
        assert stale.json()["worker"] == "stale"
        assert _gauge((await wclient.get("/metrics")).text,
                      "accord_worker_last_seen_age_seconds") < 121
    finally:
        await status.forget("readyz-worker")
    assert (await wclient.get("/readyz")).json()["worker"] == "absent"


async def test_only_admins_and_webhook_keys_manage_endpoints(
        wapp: FastAPI, wclient: httpx.AsyncClient, wadmin: Actor, receiver: Receiver) -> None:
    manager = await actor(wclient, wadmin, wadmin.department_id, ["account_manager"])
    refused = await wclient.get("/api/v1/webhook-endpoints", headers=manager.headers)
    assert_problem(refused, 403, "forbidden")
    keys = {}
    for scope in ("webhooks:manage", "customers:read"):
        issued = await wclient.post("/api/v1/api-keys", headers=wadmin.headers,
                                    json={"name": unique("集成"), "scopes": [scope]})
        assert issued.status_code == 201, issued.text
        keys[scope] = {"X-API-Key": issued.json()["key"]}
    assert_problem(await wclient.get("/api/v1/webhook-endpoints",
                                     headers=keys["customers:read"]), 403, "forbidden")
    created = await wclient.post("/api/v1/webhook-endpoints", headers=keys["webhooks:manage"],
                                 json={"url": receiver.url("/crm"),
                                       "event_types": ["customer.*", "change_request.approved"]})
    assert created.status_code == 201, created.text
    listed = await wclient.get("/api/v1/webhook-endpoints", params={"limit": 200},
                               headers=keys["webhooks:manage"])
    assert created.json()["id"] in [e["id"] for e in listed.json()["data"]]
    assert all("secret" not in e for e in listed.json()["data"])


async def test_changing_an_endpoint_needs_its_version_and_valid_types(
        wclient: httpx.AsyncClient, wadmin: Actor, receiver: Receiver) -> None:
    endpoint = await subscribe(wclient, wadmin, receiver.url("/change"), ["customer.*"])
    url = f"/api/v1/webhook-endpoints/{endpoint['id']}"
    assert_problem(await wclient.patch(url, headers=wadmin.headers, json={"enabled": False}),
                   428, "precondition_required")
    bad = await wclient.patch(url, headers={**wadmin.headers, "If-Match": '"1"'},
                              json={"event_types": ["customer", "customer.*"]})
    body = assert_problem(bad, 422, "validation_failed")
    assert [e["pointer"] for e in body["errors"]] == ["/event_types/0"]
    off = await wclient.patch(url, headers={**wadmin.headers, "If-Match": '"1"'},
                              json={"enabled": False})
    assert (off.json()["enabled"], off.json()["disabled_reason"], off.headers["etag"]) == (
        False, "manual", '"2"')
    assert_problem(await wclient.patch(url, headers={**wadmin.headers, "If-Match": '"1"'},
                                       json={"enabled": True}), 412, "precondition_failed")
    on = await wclient.patch(url, headers={**wadmin.headers, "If-Match": '"2"'},
                             json={"enabled": True, "event_types": ["handover.*"]})
    assert (on.json()["enabled"], on.json()["disabled_reason"], on.json()["event_types"]) == (
        True, None, ["handover.*"])
    assert_problem(await wclient.post("/api/v1/webhook-endpoints", headers=wadmin.headers,
                                      json={"url": receiver.url("/x"), "event_types": [],
                                            "secret": "whsec_mine"}), 422, "validation_failed")
