"""Webhook deliveries end to end: events committed by use cases reach a real local
receiver through the worker, signed per Standard Webhooks (checked with the
``standardwebhooks`` package, not with our own code), retried on schedule, disabled on 410,
redelivered with the same webhook-id, and logged per attempt."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.domain.webhooks.deliveries import RETRY_WINDOW
from app.repositories.tables import outbox
from app.repositories.tables_worker import webhook_deliveries
from tests.db import rows
from tests.support import Actor, TestClock, assert_problem, unique
from tests.worker.conftest import drain, emit, subscribe, unique_type
from tests.worker.receiver import Answer, Receiver


async def test_an_event_reaches_the_receiver_signed_per_standard_webhooks(
        wapp: FastAPI, wclient: httpx.AsyncClient, wadmin: Actor, receiver: Receiver) -> None:
    family = unique_type()
    endpoint = await subscribe(wclient, wadmin, receiver.url(f"/{family}"), [f"{family}.*"])
    assert endpoint["secret"].startswith("whsec_")
    event_id = await emit(wapp, f"{family}.approved", amount=12, note="审批通过")
    await emit(wapp, f"{unique_type()}.approved")  # another family: not subscribed

    await drain(wapp)

    [got] = receiver.at(f"/{family}")
    payload = Webhook(endpoint["secret"]).verify(got.body, got.headers)
    assert payload["type"] == f"{family}.approved"
    assert payload["data"]["amount"] == 12 and payload["data"]["note"] == "审批通过"
    assert payload["data"]["event_id"] == str(event_id)
    assert payload["timestamp"].endswith("Z")
    assert set(json.loads(got.body)) == {"type", "timestamp", "data"}
    assert got.headers["webhook-signature"].startswith("v1,")
    with pytest.raises(WebhookVerificationError):  # another secret does not verify
        Webhook("whsec_" + "A" * 43 + "=").verify(got.body, got.headers)
    # The log has the attempt under the same webhook-id; the secret is never shown again.
    log = await wclient.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries",
                            headers=wadmin.headers)
    assert log.status_code == 200, log.text
    [attempt] = log.json()["data"]
    assert (attempt["webhook_id"], attempt["status_code"], attempt["outcome"],
            attempt["number"]) == (got.headers["webhook-id"], 200, "succeeded", 1)
    assert attempt["response_body"] == "ok"
    read = await wclient.get(f"/api/v1/webhook-endpoints/{endpoint['id']}",
                             headers=wadmin.headers)
    assert "secret" not in read.json() and endpoint["secret"] not in read.text
    [published] = await rows(wapp, outbox, id=event_id)
    assert published.published_at is not None


async def test_a_rolled_back_use_case_emits_nothing(
        wapp: FastAPI, wclient: httpx.AsyncClient, wadmin: Actor, receiver: Receiver) -> None:
    """A department created, then the same name again (refused, rolled back): exactly one
    department.created reaches the receiver."""
    path = f"/{unique_type()}"
    await subscribe(wclient, wadmin, receiver.url(path), ["department.created"])
    name = unique("华东区")
    ok = await wclient.post("/api/v1/departments", headers=wadmin.headers, json={"name": name})
    refused = await wclient.post("/api/v1/departments", headers=wadmin.headers,
                                 json={"name": name})
    assert ok.status_code == 201 and refused.status_code == 409

    await drain(wapp)

    names = [json.loads(r.body)["data"]["after"]["name"] for r in receiver.at(path)]
    assert names.count(name) == 1


async def test_secret_rotation_signs_with_both_secrets_for_a_day(
        wapp: FastAPI, wclient: httpx.AsyncClient, wadmin: Actor, receiver: Receiver,
        worker_clock: TestClock) -> None:
    family = unique_type()
    path = f"/{family}"
    endpoint = await subscribe(wclient, wadmin, receiver.url(path), [f"{family}.*"])
    rotated = await wclient.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret",
        headers={**wadmin.headers, "If-Match": f'"{endpoint["version"]}"'})
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != endpoint["secret"] and rotated.headers["cache-control"] == "no-store"

    await emit(wapp, f"{family}.changed")
    await drain(wapp)

    [during] = receiver.at(path)
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(endpoint["secret"]).verify(during.body, during.headers)
    Webhook(new_secret).verify(during.body, during.headers)

    # A day later only the new secret signs. (standardwebhooks checks the timestamp against
    # the real time, so the old secret's absence is read from the header itself.)
    worker_clock.advance(hours=24, seconds=1)
    try:
        await emit(wapp, f"{family}.changed")
        await drain(wapp)
    finally:
        worker_clock.advance(hours=-24, seconds=-1)
    after = receiver.at(path)[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert after.headers["webhook-signature"] == Webhook(new_secret).sign(
        after.headers["webhook-id"], _timestamp(after.headers), after.body)


def _timestamp(headers: dict[str, str]) -> datetime:
    return datetime.fromtimestamp(int(headers["webhook-timestamp"]), tz=UTC)


async def test_ping_and_redelivery_keep_the_webhook_id(
        wapp: FastAPI, wclient: httpx.AsyncClient, wadmin: Actor, receiver: Receiver) -> None:
    path = f"/{unique_type()}"
    endpoint = await subscribe(wclient, wadmin, receiver.url(path), ["nothing.else"])
    ping = await wclient.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/ping",
                              headers=wadmin.headers)
    assert ping.status_code == 202, ping.text
    assert ping.json()["state"] == "pending"

    await drain(wapp)
    again = await wclient.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries/"
                               f"{ping.json()['id']}/redeliver", headers=wadmin.headers)
    assert again.status_code == 202, again.text
    await drain(wapp)

    first, second = receiver.at(path)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == ping.json()["webhook_id"]
    assert first.body == second.body
    assert json.loads(first.body)["type"] == "webhook.ping"
    for got in (first, second):
        Webhook(endpoint["secret"]).verify(got.body, got.headers)
    log = (await wclient.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries",
                             headers=wadmin.headers)).json()["data"]
    assert [a["number"] for a in log] == [2, 1]  # newest first


async def test_a_500_is_retried_on_schedule_and_a_day_of_failures_disables_the_endpoint(
        wapp: FastAPI, wclient: httpx.AsyncClient, wadmin: Actor, receiver: Receiver,
        worker_clock: TestClock) -> None:
    family = unique_type()
    path = f"/{family}"
    receiver.answers[path] = Answer(500, body=b"down for maintenance " * 500)
    endpoint = await subscribe(wclient, wadmin, receiver.url(path), [f"{family}.*"])
    await emit(wapp, f"{family}.first")
    start = worker_clock.offset
    try:
        await drain(wapp)
        [delivery] = await rows(wapp, webhook_deliveries, endpoint_id=_uuid(endpoint["id"]))
        first_retry = delivery.next_attempt_at - delivery.last_attempt_at
        assert timedelta(seconds=12) <= first_retry <= timedelta(seconds=18)  # 15 s ± 20 %
        await drain(wapp)  # not due yet: nothing sent
        assert len(receiver.at(path)) == 1

        gaps = []
        while delivery.state == "pending":
            worker_clock.offset += delivery.next_attempt_at - worker_clock.now()
            await drain(wapp)
            previous = delivery
            [delivery] = await rows(wapp, webhook_deliveries, endpoint_id=_uuid(endpoint["id"]))
            gaps.append(delivery.last_attempt_at - previous.last_attempt_at)
        # Exponential: each pause at least twice the one before, until the 6 h cap.
        assert all(b >= a * 2 or b >= timedelta(hours=4) for a, b in pairwise(gaps))
        span = delivery.last_attempt_at - delivery.first_attempt_at
        assert timedelta(hours=16) <= span <= RETRY_WINDOW
        assert delivery.state == "failed" and delivery.attempts == len(receiver.at(path))
        log = await wclient.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries",
                                params={"limit": 200}, headers=wadmin.headers)
        attempts = log.json()["data"]
        assert {a["status_code"] for a in attempts} == {500}
        assert all(len(a["response_body"].encode()) <= 4096 for a in attempts)

        # Still enabled: the endpoint failed for less than a day. The next failure after a
        # day of failing disables it and announces that.
        read = (await wclient.get(f"/api/v1/webhook-endpoints/{endpoint['id']}",
                                  headers=wadmin.headers)).json()
        assert read["enabled"] and read["failing_since"] is not None
        worker_clock.advance(hours=9)
        await emit(wapp, f"{family}.second")
        await drain(wapp)
        read = (await wclient.get(f"/api/v1/webhook-endpoints/{endpoint['id']}",
                                  headers=wadmin.headers)).json()
        assert (read["enabled"], read["disabled_reason"]) == (False, "failing")
        [announced] = await rows(wapp, outbox, entity_id=endpoint["id"],
                                 type="webhook_endpoint.disabled")
        assert announced.data == {"url": endpoint["url"], "reason": "failing"}
    finally:
        worker_clock.offset = start


async def test_a_410_disables_the_endpoint_at_once(
        wapp: FastAPI, wclient: httpx.AsyncClient, wadmin: Actor, receiver: Receiver) -> None:
    family = unique_type()
    path = f"/{family}"
    receiver.answers[path] = Answer(410, body=b"unsubscribed")
    endpoint = await subscribe(wclient, wadmin, receiver.url(path), [f"{family}.*"])
    await emit(wapp, f"{family}.one")
    await drain(wapp)
    await emit(wapp, f"{family}.two")
    await drain(wapp)

    assert len(receiver.at(path)) == 1  # the second event is not sent to a disabled endpoint
    read = (await wclient.get(f"/api/v1/webhook-endpoints/{endpoint['id']}",
                              headers=wadmin.headers)).json()
    assert (read["enabled"], read["disabled_reason"]) == (False, "gone")
    [announced] = await rows(wapp, outbox, entity_id=endpoint["id"],
                             type="webhook_endpoint.disabled")
    assert announced.data["reason"] == "gone"
    ping = await wclient.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/ping",
                              headers=wadmin.headers)
    assert_problem(ping, 409, "invalid_state")


async def test_a_redirect_is_not_followed(
        wapp: FastAPI, wclient: httpx.AsyncClient, wadmin: Actor, receiver: Receiver) -> None:
    family = unique_type()
    path, elsewhere = f"/{family}", f"/{family}-elsewhere"
    receiver.answers[path] = Answer(307, headers={"location": receiver.url(elsewhere)})
    endpoint = await subscribe(wclient, wadmin, receiver.url(path), [f"{family}.*"])
    await emit(wapp, f"{family}.moved")
    await drain(wapp)

    assert len(receiver.at(path)) == 1 and receiver.at(elsewhere) == []
    [attempt] = (await wclient.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries",
                                   headers=wadmin.headers)).json()["data"]
    assert (attempt["status_code"], attempt["outcome"]) == (307, "failed")


def _uuid(text: str) -> UUID:
    return UUID(text)
