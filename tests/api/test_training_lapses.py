"""Lapses and reminders on both engines, through the use case the scheduler (and
`accord escalate`) runs: a lapsed completion is announced once as `training.lapsed` from
the day after its last valid day, one that lapses soon is reminded of once as
`training.expiring`, a renewed one is never announced."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from fastapi import FastAPI

from app.domain.training.model import valid_through
from app.repositories.tables import outbox
from app.services.ports import RequestContext
from app.services.ports.outbox import PublishedEvent
from tests.db import rows
from tests.support import Actors, TestClock, actor
from tests.training_support import attended, make_course, record, today

pytestmark = pytest.mark.asyncio(loop_scope="session")


def held_for(last: date) -> date:
    """A day whose one-month completion is valid through ``last``."""
    return next(d for d in (last - timedelta(days=n) for n in range(25, 40))
                if valid_through(d, 1) == last)


async def test_lapses_are_announced_once_and_reminders_sent_before(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors, clock: TestClock) -> None:
    course = await make_course(client, actors.admin, validity_months=1)
    day = today(clock)
    gone, soon, renewed, fresh = [await actor(client, actors.admin, actors.east,
                                              ["account_manager"]) for _ in range(4)]
    for who, on in ((gone, held_for(day - timedelta(days=1))),
                    (soon, held_for(day + timedelta(days=5))),
                    (renewed, held_for(day - timedelta(days=1))), (renewed, day),
                    (fresh, day)):
        assert (await record(client, actors.admin, course, on, actors.tech,
                             attended(who))).status_code == 201
    service = app.state.services.training
    system = RequestContext(None, "test-lapses")
    await service.announce_lapses(system)
    await service.announce_lapses(system)  # a second run announces nothing again

    mine = {gone.id: "gone", soon.id: "soon", renewed.id: "renewed", fresh.id: "fresh"}
    announced = sorted((r.type, mine[r.entity_id]) for r in await rows(app, outbox)
                       if r.type in ("training.lapsed", "training.expiring")
                       and r.entity_id in mine)
    assert announced == [("training.expiring", "soon"), ("training.lapsed", "gone")]
    [lapsed] = [r for r in await rows(app, outbox)
                if r.type == "training.lapsed" and r.entity_id == gone.id]
    assert lapsed.data["valid_through"] == (day - timedelta(days=1)).isoformat()
    assert lapsed.data["course_id"] == course["id"]

    # each person is told of their own course, with a link to their training record
    events = [PublishedEvent(r.id, r.type, r.entity_type, r.entity_id, r.occurred_at, r.data)
              for r in await rows(app, outbox)
              if r.type in ("training.lapsed", "training.expiring") and r.entity_id in mine]
    async with app.state.unit_of_work(system) as uow:
        await app.state.services.notification_consumer.consume(uow, events)
        await uow.commit()
    for who, kind in ((gone, "training_lapsed"), (soon, "training_expiring")):
        listed = (await client.get("/api/v1/me/notifications", headers=who.headers)).json()
        [told] = listed["data"]
        assert (told["kind"], told["path"]) == (kind, f"/api/v1/users/{who.id}/training")
        assert told["details"]["course_title"] == course["title"]
    for who in (renewed, fresh):
        assert (await client.get("/api/v1/me/notifications",
                                 headers=who.headers)).json()["data"] == []
