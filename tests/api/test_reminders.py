"""Reminders (issue 15 §5) driven by the test clock: an approval step due soon is reminded
of once across the National Day holiday (1–7 October), in working time only; a feedback
clock near its breach reminds the owner once; a plan's milestone due on a holiday reminds
its owner (or the plan's) on the working day before, once; a customer's next contact due
after the holiday reminds its manager on the day, once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.domain.common.calendar import BusinessCalendar
from app.domain.notifications.reminders import at_work
from tests.api.test_handover_follow_up import TRANSFER_AT, transferred
from tests.change_request_support import drive
from tests.customer_support import make_customer
from tests.feedback_support import near, pinned, record
from tests.notification_support import SYSTEM, World, inbox, kinds, own_database, relay, world
from tests.plan_support import add_part, draft_plan, plan_act
from tests.support import TestClock, versioned

__all__ = ["own_database", "world"]  # the fixtures
SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = "/api/v1/settings/approval-policy"
CADENCE = "/api/v1/settings/contact-cadence"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


async def remind(world: World, clock: TestClock, moment: datetime) -> int:
    with pinned(clock, moment):
        sent: int = await world.app.state.services.reminders.send_reminders(SYSTEM)
    return sent


async def test_an_approval_step_is_reminded_of_once_across_the_national_day_holiday(
        world: World, clock: TestClock) -> None:
    client, actors = world.client, world.actors
    read = await client.get(POLICY, headers=actors.admin.headers)
    policy = {k: v for k, v in versioned(read).items() if k != "version"}
    saved = await client.put(POLICY, json={**policy, "step_due_hours": 6},
                             headers={**actors.admin.headers, "If-Match": read.headers["etag"]})
    assert saved.status_code == 200, saved.text
    with pinned(clock, local(2026, 9, 30, 13)):
        cr = await drive(client, actors, "awaiting_approval")  # the east head's step only
    [step] = cr["approval_steps"]
    # 5 working hours left on 30 September, then 1 after the holiday.
    assert near(step["due_at"], local(2026, 10, 8, 10))

    # 5.5 h of working time left: not yet.
    assert await remind(world, clock, local(2026, 9, 30, 13, 30)) == 0
    # 3.5 h left: reminded, once, by whichever of two runs at once gets there first.
    with pinned(clock, local(2026, 9, 30, 15, 30)):
        job = world.app.state.services.reminders.send_reminders
        assert sorted(await asyncio.gather(job(SYSTEM), job(SYSTEM))) == [0, 1]
    moments = [local(2026, 9, 30, 17),  # reminded already
               local(2026, 10, 3, 10),  # National Day: 1 h left, but nobody works
               local(2026, 10, 8, 9, 30)]  # reminded already
    assert [await remind(world, clock, m) for m in moments] == [0, 0, 0]
    await relay(world.app)
    assert await kinds(client, actors.head_east, cr["id"]) == [
        "approval_step_assigned", "approval_step_due_soon"]
    [reminder] = [n for n in await inbox(client, actors.head_east)
                  if n["entity_id"] == cr["id"] and n["kind"] == "approval_step_due_soon"]
    assert near(reminder["details"]["due_at"], local(2026, 10, 8, 10))
    assert reminder["details"]["step"] == 1
    assert await kinds(client, actors.am_east, cr["id"]) == []  # the requester decides nothing


async def test_a_feedback_clock_near_its_breach_reminds_the_owner_once(
        world: World, clock: TestClock) -> None:
    client, actors = world.client, world.actors
    customer = (await client.post("/api/v1/customers", headers=actors.am_east2.headers,
                                  json={"name": "江南纺织"})).json()
    with pinned(clock, local(2026, 11, 24, 9)):  # a Tuesday
        feedback = await record(client, actors.am_east2, customer, severity="high")
    due = datetime.fromisoformat(feedback["sla"]["acknowledge_due_at"])
    assert near(feedback["sla"]["acknowledge_due_at"], local(2026, 11, 24, 13))  # 4 working h
    soon = due - timedelta(minutes=90)
    assert at_work(BusinessCalendar(), soon)
    assert [await remind(world, clock, m) for m in (due - timedelta(hours=3), soon, soon)
            ] == [0, 1, 0]
    await relay(world.app)
    assert await kinds(client, actors.am_east2, feedback["id"]) == ["feedback_sla_due_soon"]
    [reminder] = [n for n in await inbox(client, actors.am_east2)
                  if n["entity_id"] == feedback["id"]]
    assert reminder["details"]["clock"] == "acknowledge"


async def test_a_follow_up_due_on_a_make_up_saturday_is_reminded_of_that_day_once(
        world: World, clock: TestClock) -> None:
    client, actors = world.client, world.actors
    with pinned(clock, TRANSFER_AT):
        handover = await transferred(client, actors, "A")
    assert handover["follow_up_due"] == "2026-10-10"  # after National Day, a worked Saturday
    moments = [local(2026, 10, 9, 10),  # the day before: not yet
               local(2026, 10, 10, 10),  # the due day: reminded
               local(2026, 10, 10, 15)]  # reminded already
    assert [await remind(world, clock, m) for m in moments] == [0, 1, 0]
    await relay(world.app)
    # created, notified, preparation started, meeting held, signed, transferred; reminded
    assert await kinds(client, actors.am_east2, handover["id"]) == [
        *["handover_step"] * 6, "handover_follow_up_due_soon"]
    assert "handover_follow_up_due_soon" not in await kinds(client, actors.am_east,
                                                             handover["id"])


async def test_plan_milestones_are_reminded_of_to_their_owner_once_before_national_day(
        world: World, clock: TestClock) -> None:
    client, actors = world.client, world.actors
    with pinned(clock, local(2026, 9, 28, 10)):
        customer = await make_customer(client, actors.am_east)
        plan = await draft_plan(client, actors.am_east, customer)
        # due on a National Day holiday, owned by a colleague
        plan = await add_part(client, actors.am_east, plan, "milestones", {
            "title": "蓝图评审", "planned_date": "2026-10-05", "owner_id": actors.am_east2.id})
        # due on the Friday after the holiday, owned by nobody: the plan's owner hears
        plan = await add_part(client, actors.am_east, plan, "milestones",
                              {"title": "试运行", "planned_date": "2026-10-09"})
        plan = await add_part(client, actors.am_east, plan, "budget-lines",
                              {"category": "实施人力", "planned": "100000.00"})
        plan = versioned(await plan_act(client, actors.am_east, plan, "activate"))
    moments = [local(2026, 9, 29, 10),  # the 5th is not the next working day yet
               local(2026, 9, 30, 10),  # the last working day before the 5th: 蓝图评审
               local(2026, 9, 30, 16),  # reminded already
               local(2026, 10, 5, 10),  # the due day, a holiday: nobody works
               local(2026, 10, 9, 10),  # 试运行's day
               local(2026, 10, 9, 15)]  # reminded already
    assert [await remind(world, clock, m) for m in moments] == [0, 1, 0, 0, 1, 0]
    await relay(world.app)
    [colleague] = [n for n in await inbox(client, actors.am_east2)
                   if n["entity_id"] == plan["id"]]
    assert colleague["kind"] == "plan_milestone_due_soon"
    assert colleague["details"]["title"] == "蓝图评审"
    assert colleague["details"]["planned_date"] == "2026-10-05"
    assert colleague["path"] == f"/api/v1/plans/{plan['id']}"
    owner = [n["details"]["title"] for n in await inbox(client, actors.am_east)
             if n["entity_id"] == plan["id"] and n["kind"] == "plan_milestone_due_soon"]
    assert owner == ["试运行"]


async def test_a_next_contact_due_after_national_day_reminds_the_manager_once(
        world: World, clock: TestClock) -> None:
    client, actors = world.client, world.actors
    read = await client.get(CADENCE, headers=actors.admin.headers)
    saved = await client.put(CADENCE, json={"working_days": dict.fromkeys("ABCD", 2)},
                             headers={**actors.admin.headers, "If-Match": read.headers["etag"]})
    assert saved.status_code == 200, saved.text
    with pinned(clock, local(2026, 9, 29, 11)):
        customer = await make_customer(client, actors.am_west)
        met = await client.post(f"/api/v1/customers/{customer['id']}/interactions",
                                headers=actors.am_west.headers, json={
                                    "kind": "visit", "summary": "季度回访",
                                    "occurred_at": local(2026, 9, 29, 10).isoformat()})
        assert met.status_code == 201, met.text
        cadence = await client.get(f"/api/v1/customers/{customer['id']}/contact-cadence",
                                   headers=actors.am_west.headers)
    # two working days after the 29th: the 30th, then the 8th (1–7 October are off)
    assert cadence.json()["next_contact_due"] == "2026-10-08", cadence.text
    moments = [local(2026, 10, 3, 10),  # a holiday
               local(2026, 10, 7, 10),  # still a holiday
               local(2026, 10, 8, 10),  # the due day: reminded
               local(2026, 10, 8, 16)]  # reminded already
    sent = [await remind(world, clock, m) for m in moments]
    assert sent == [0, 0, 1, 0]
    await relay(world.app)
    assert await kinds(client, actors.am_west, customer["id"]) == ["contact_due_soon"]
    [reminder] = [n for n in await inbox(client, actors.am_west)
                  if n["entity_id"] == customer["id"]]
    assert reminder["details"] == {"customer_name": customer["name"], "due_on": "2026-10-08"}
