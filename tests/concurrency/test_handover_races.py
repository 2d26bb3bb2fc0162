"""Handovers under concurrency (domain §4). On PostgreSQL, two final signatures at once
(two heads who may both give the missing one, or one manager double-clicking) give exactly
one success, one signature, one audit entry, one set of events and ONE transfer: the
customer moves once, its history records it once. Two signers with the same ETag take
turns (the handover's row lock), and two starts for the same customer make one handover.
On SQLite, signatures fired at once queue for the single writer instead of failing."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables import outbox
from app.repositories.tables_customers import customer_history, customer_timeline
from app.repositories.tables_handovers import handover_signatures, handovers
from tests.conftest import client_for
from tests.customer_support import read_customer
from tests.db import row_count, rows
from tests.handover_support import (
    HANDOVERS,
    customer_of_tier,
    ok,
    post,
    prepare,
    read,
    start,
)
from tests.race_support import Call, executed_once, race, split
from tests.support import Actor, Actors, actor, assert_problem, audit_entries, unique

ROUNDS = 3
# What the slower of two signatures on one version may hear.
LOSING = {(412, "precondition_failed"), (409, "already_signed"),
          (409, "transition_not_allowed"), (409, "write_conflict")}


def sign(who: Actor, h: dict[str, Any], key: str | None = None) -> Call:
    return lambda c: post(c, who, h, "/sign", key=key)


async def ready(client: httpx.AsyncClient, actors: Actors, tier: str, giver: Actor,
                taker: Actor) -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh customer of ``giver``'s in a handover to ``taker``, ready to sign."""
    customer = await customer_of_tier(client, giver, tier)
    h = await start(client, giver, customer, taker)
    return await prepare(client, actors, h, customer, giver, taker), customer


def assert_lost(loser: httpx.Response) -> None:
    code = loser.json()["code"]
    assert (loser.status_code, code) in LOSING, loser.text
    assert_problem(loser, loser.status_code, code)


async def assert_transferred_once(app: FastAPI, client: httpx.AsyncClient, actors: Actors,
                                  h: dict[str, Any], winner: httpx.Response,
                                  taker: Actor) -> None:
    """One transfer: the stored handover is the winner's, each transfer event and audit
    entry exists once, the customer moved once (one owner change in its history)."""
    now = await read(client, actors.admin, h)
    assert now["state"] == "transferred"
    assert {k: v for k, v in now.items() if k != "allowed_actions"} == {
        k: v for k, v in winner.json().items() if k != "allowed_actions"}
    signatures = await rows(app, handover_signatures, handover_id=UUID(h["id"]))
    assert sorted(s.role for s in signatures) == sorted(
        {"strict": ["handing_over", "receiving", "department_head"],
         "standard": ["handing_over", "receiving"], "light": ["receiving"]}[h["level"]])
    actions = [e["action"] for e in await audit_entries(client, actors.auditor, "handover",
                                                          h["id"])]
    assert actions.count("handover.signature_given") == len(signatures), actions
    assert actions.count("handover.signed") == actions.count("handover.transferred") == 1
    for entity_id, event in ((h["id"], "handover.signed"), (h["id"], "handover.transferred"),
                             (h["customer_id"], "customer.handed_over")):
        assert await row_count(app, outbox, type=event, entity_id=entity_id) == 1, event
    assert await row_count(app, outbox, entity_id=h["id"],
                           type="handover.signature_given") == len(signatures)
    customer_id = UUID(h["customer_id"])
    owner_changes = sorted((r.id, r.action, r.old, r.new) for r in await rows(
        app, customer_history, customer_id=customer_id) if r.field == "owner_id")
    assert [change[1:] for change in owner_changes] == [  # set when created, moved once
        ("customer.created", None, h["from_manager_id"]),
        ("customer.handed_over", h["from_manager_id"], taker.id)], owner_changes
    timeline = [r.type for r in await rows(app, customer_timeline, customer_id=customer_id)]
    assert timeline.count("customer.handed_over") == timeline.count(
        "handover.transferred") == 1
    customer = await read_customer(client, taker, h["customer_id"])
    assert customer["owner_id"] == taker.id


@pytest.mark.postgres_only
async def test_two_heads_giving_the_last_signature_at_once_transfer_once(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    """Both heads of the customer's department may give the strict handover's missing
    department-head signature: one does, the other is refused, the customer moves once."""
    head2 = await actor(client, actors.admin, actors.east, ["department_head"])
    giver, taker = actors.am_east, actors.am_east2
    for _ in range(ROUNDS):
        h, _ = await ready(client, actors, "A", giver, taker)
        h = await ok(client, giver, h, "/sign")
        h = await ok(client, taker, h, "/sign")
        assert h["missing_signatures"] == ["department_head"]

        winner, loser = split(await race(app, sign(actors.head_east, h), sign(head2, h)))

        assert_lost(loser)
        [head_signature] = [s for s in winner.json()["signatures"]
                            if s["role"] == "department_head"]
        assert head_signature["signer_id"] in {actors.head_east.id, head2.id}
        await assert_transferred_once(app, client, actors, h, winner, taker)


@pytest.mark.postgres_only
async def test_a_double_click_on_the_last_signature_transfers_once(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    giver, taker = actors.am_east, actors.am_east2
    for _ in range(ROUNDS):
        h, _ = await ready(client, actors, "C", giver, taker)
        assert h["level"] == "light" and h["missing_signatures"] == ["receiving"]
        twice = sign(taker, h)

        winner, loser = split(await race(app, twice, twice))

        assert_lost(loser)
        await assert_transferred_once(app, client, actors, h, winner, taker)


@pytest.mark.postgres_only
async def test_a_double_click_with_one_key_signs_and_transfers_once(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    giver, taker = actors.am_east, actors.am_east2
    for _ in range(ROUNDS):
        h, _ = await ready(client, actors, "C", giver, taker)
        twice = sign(taker, h, key=unique("sign"))

        responses = await race(app, twice, twice)

        executed = executed_once(responses)
        retry = await twice(client)
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.json() == executed.json()
        await assert_transferred_once(app, client, actors, h, executed, taker)


@pytest.mark.postgres_only
async def test_both_managers_signing_on_one_etag_take_turns(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    """The first signature bumps the version, so the second (same If-Match) is refused;
    signing again on the new version gives the last signature and one transfer."""
    giver, taker = actors.am_east, actors.am_east2
    for _ in range(ROUNDS):
        h, _ = await ready(client, actors, "B", giver, taker)
        assert h["level"] == "standard"

        winner, loser = split(await race(app, sign(giver, h), sign(taker, h)))

        assert_lost(loser)
        first = winner.json()
        assert (first["state"], first["version"]) == ("preparing", h["version"] + 1)
        assert len(first["signatures"]) == 1
        last_signer = taker if first["signatures"][0]["signer_id"] == giver.id else giver
        last = await post(client, last_signer, first, "/sign")
        assert last.status_code == 200, last.text
        await assert_transferred_once(app, client, actors, h, last, taker)


@pytest.mark.postgres_only
async def test_two_starts_for_one_customer_make_one_handover(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    """The owner and the department head start the same customer's handover at once:
    one 201, one 409 handover_already_open naming the winner; one handover stored, one
    ``handover.created`` event."""
    giver, taker = actors.am_east, actors.am_east2
    for _ in range(ROUNDS):
        customer = await customer_of_tier(client, giver, "C")
        body = {"customer_id": customer["id"], "to_manager_id": taker.id,
                "reason": "reassignment"}

        def begin(who: Actor, body: dict[str, str] = body) -> Call:
            return lambda c: c.post(HANDOVERS, headers=who.headers, json=body)

        responses = await race(app, begin(giver), begin(actors.head_east))

        [created] = [r for r in responses if r.status_code == 201]
        [refused] = [r for r in responses if r is not created]
        assert refused.json()["code"] == "handover_already_open", refused.text
        assert_problem(refused, 409, "handover_already_open")
        stored = await rows(app, handovers, customer_id=UUID(customer["id"]))
        assert [str(r.id) for r in stored] == [created.json()["id"]]
        assert await row_count(app, outbox, type="handover.created",
                               entity_id=created.json()["id"]) == 1
        timeline = await rows(app, customer_timeline, customer_id=UUID(customer["id"]))
        assert [r.type for r in timeline].count("handover.created") == 1


@pytest.mark.sqlite_only
async def test_signatures_fired_at_once_wait_their_turn_on_sqlite(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    """Eight last signatures on eight handovers, all in flight together on SQLite's single
    writer: each waits for the lock and each transfers its customer once."""
    giver, taker = actors.am_east, actors.am_east2
    ready_to_sign = [(await ready(client, actors, "C", giver, taker))[0] for _ in range(8)]

    async with client_for(app) as c:
        responses = await asyncio.gather(*(sign(taker, h)(c) for h in ready_to_sign))

    assert [r.status_code for r in responses] == [200] * len(ready_to_sign), [
        r.text for r in responses if r.status_code != 200]
    for h, response in zip(ready_to_sign, responses, strict=True):
        assert (response.json()["state"], response.json()["version"]) == (
            "transferred", h["version"] + 1)
        await assert_transferred_once(app, client, actors, h, response, taker)


@pytest.mark.sqlite_only
async def test_a_signature_waits_for_an_open_write_instead_of_failing(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    h, _ = await ready(client, actors, "C", actors.am_east, actors.am_east2)

    async with app.state.engines.write.connect() as writer:
        await writer.begin()  # BEGIN IMMEDIATE: this connection holds the write lock
        queued = asyncio.create_task(sign(actors.am_east2, h)(client))
        await asyncio.sleep(0.5)
        assert not queued.done()  # the signature waits for the lock, it does not fail
        await writer.rollback()

    response = await asyncio.wait_for(queued, timeout=10)
    assert response.status_code == 200, response.text
    await assert_transferred_once(app, client, actors, h, response, actors.am_east2)
