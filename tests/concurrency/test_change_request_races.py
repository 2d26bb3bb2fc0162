"""Change requests under concurrency (issue 4, item 8). On PostgreSQL two approvers deciding
the same step at once, or one approver double-clicking, give exactly one success, one
audit entry and one outbox event (the change's row lock makes them take turns, the version
check refuses the second). On SQLite, transitions on different changes fired at once all
succeed: writers queue for the lock instead of failing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables import outbox
from tests.change_request_support import (
    attempt,
    customer_of,
    decide,
    drive,
    read_cr,
)
from tests.conftest import client_for
from tests.db import row_count, rows
from tests.race_support import executed_once, race, split
from tests.support import Actor, Actors, actor, assert_problem, audit_entries, unique

ROUNDS = 4
# What the slower of two decisions on one step may hear: its If-Match is stale by then.
LOSING = {(412, "precondition_failed"), (409, "step_already_decided"),
          (409, "transition_not_allowed"), (409, "write_conflict")}


def click(who: Actor, cr: dict[str, Any], key: str | None = None) -> Any:
    step = cr["approval_steps"][0]
    return lambda c: decide(c, who, cr, step, key=key)


async def assert_approved_once(app: FastAPI, client: httpx.AsyncClient, actors: Actors,
                               cr: dict[str, Any], winner: httpx.Response,
                               deciders: set[str]) -> None:
    actions = [e["action"] for e in await audit_entries(client, actors.auditor,
                                                          "change_request", cr["id"])]
    assert actions.count("change_request.approved") == 1, actions
    assert actions[-1] == "change_request.approved"
    assert await row_count(app, outbox, entity_id=cr["id"],
                           type="change_request.approved") == 1
    now = await read_cr(client, actors.admin, cr)
    assert (now["state"], now["version"]) == ("approved", cr["version"] + 1)
    [step] = now["approval_steps"]
    assert step["decided_by"] in deciders
    assert step["decided_by"] == winner.json()["approval_steps"][0]["decided_by"]
    assert {k: v for k, v in now.items() if k != "allowed_actions"} == {
        k: v for k, v in winner.json().items() if k != "allowed_actions"}


def assert_lost(loser: httpx.Response) -> None:
    code = loser.json()["code"]
    assert (loser.status_code, code) in LOSING, loser.text
    assert_problem(loser, loser.status_code, code)


@pytest.mark.postgres_only
async def test_two_heads_deciding_the_same_step_at_once_one_wins(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    head2 = await actor(client, actors.admin, actors.east, ["department_head"])
    customer = await customer_of(client, actors.am_east)
    for _ in range(ROUNDS):
        cr = await drive(client, actors, "awaiting_approval", customer)

        winner, loser = split(await race(app, click(actors.head_east, cr), click(head2, cr)))

        assert winner.json()["state"] == "approved"
        assert_lost(loser)
        await assert_approved_once(app, client, actors, cr, winner,
                                   {actors.head_east.id, head2.id})


@pytest.mark.postgres_only
async def test_an_approvers_double_click_approves_once(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await customer_of(client, actors.am_east)
    for _ in range(ROUNDS):
        cr = await drive(client, actors, "awaiting_approval", customer)
        twice = click(actors.head_east, cr)

        winner, loser = split(await race(app, twice, twice))

        assert_lost(loser)
        await assert_approved_once(app, client, actors, cr, winner, {actors.head_east.id})


@pytest.mark.postgres_only
async def test_a_double_click_with_one_key_runs_the_decision_once(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await customer_of(client, actors.am_east)
    for _ in range(ROUNDS):
        cr = await drive(client, actors, "awaiting_approval", customer)
        twice = click(actors.head_east, cr, key=unique("approve"))

        responses = await race(app, twice, twice)

        executed = executed_once(responses)
        retry = await twice(client)
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.json() == executed.json()
        await assert_approved_once(app, client, actors, cr, executed, {actors.head_east.id})


@pytest.mark.sqlite_only
async def test_transitions_on_different_changes_at_once_all_succeed(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    """Submits, assessment starts and approvals on twelve changes, all in flight together
    on SQLite's single writer: each waits its turn and each is recorded once."""
    customer = await customer_of(client, actors.am_east)
    moves = [(await drive(client, actors, state, customer), action, who)
             for state, action, who in (("draft", "submit", actors.am_east),
                                        ("submitted", "start_assessment", actors.pm),
                                        ("awaiting_approval", "approve", actors.head_east))
             for _ in range(4)]

    async with client_for(app) as c:
        responses = await asyncio.gather(*(attempt(c, who, cr, action)
                                           for cr, action, who in moves))

    assert [r.status_code for r in responses] == [200] * len(moves), [
        r.text for r in responses if r.status_code != 200]
    expected = {"submit": ("submitted", "change_request.submitted"),
                "start_assessment": ("assessing", "change_request.assessment_started"),
                "approve": ("approved", "change_request.approved")}
    for (cr, action, _), response in zip(moves, responses, strict=True):
        state, event = expected[action]
        assert (response.json()["state"], response.json()["version"]) == (
            state, cr["version"] + 1)
        assert (await read_cr(client, actors.admin, cr))["state"] == state
        assert [r.request_id for r in await rows(app, outbox, entity_id=cr["id"], type=event)
                ] == [response.headers["x-request-id"]]
