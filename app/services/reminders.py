"""Reminders (issue 15 §5): an approval step due soon, a handover follow-up due, a
feedback clock near its breach, a plan's milestone due, a customer's next contact due (by
the contact cadence), each announced once per record and due time, in working time on the
business calendar. A reminder is an event like any other (``…_due_soon``): the
notification rule says who hears it, and webhook subscribers may hear it too. Another
reminder is a query on ``ReminderRepository``, a key kind, an event, and its row in the
notification rules."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from app.domain.common.events import DomainEvent
from app.domain.notifications.reminders import (
    ReminderPolicy,
    at_work,
    due_soon,
    follow_up_due_soon,
)
from app.services.business_calendar import load_calendar
from app.services.ports import Clock, RequestContext
from app.services.ports.unit_of_work import UnitOfWorkFactory

FOLLOW_UP_HORIZON = timedelta(days=31)  # longer than any run of days off
# A day's due (follow-up, milestone, next contact) is reminded of from the last working day
# on or before it: the search looks this far ahead.


class ReminderService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock,
                 policy: ReminderPolicy = ReminderPolicy()) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def send_reminders(self, ctx: RequestContext, limit: int = 500) -> int:
        """Announce the reminders due now; how many. Outside working time none is due.
        Each is claimed by its key in the same transaction as its event, so two runs (or
        two workers) never send one twice."""
        now = self._clock.now()
        policy = self._policy
        sent = 0
        async with self._uow(ctx) as uow:
            calendar = await load_calendar(uow)
            if not at_work(calendar, now):
                return 0
            reminders = uow.reminders
            until = calendar.add_working_time(now, policy.approval_lead)
            for s in await reminders.steps_due_between(now, until, limit):
                if due_soon(calendar, now, s.due_at, policy.approval_lead) and \
                        await reminders.claim("approval_step", s.step_id,
                                              s.due_at.isoformat(), now):
                    uow.emit(DomainEvent(
                        "change_request.step_due_soon", "change_request", s.change_request_id,
                        now, {"title": s.title, "requester_id": s.requester_id,
                              "current_step": {"position": s.position, "role": s.role,
                                               "department_id": s.department_id,
                                               "due_at": s.due_at}}))
                    sent += 1
            today, horizon = calendar.local_date(now), calendar.local_date(now) + FOLLOW_UP_HORIZON
            # (key kind, record, due day, event): due on a day, reminded from the last working
            # day on or before it
            on_a_day: list[tuple[str, UUID, date, DomainEvent]] = [
                *(("handover_follow_up", f.handover_id, f.follow_up_due, DomainEvent(
                    "handover.follow_up_due_soon", "handover", f.handover_id, now,
                    {"customer_name": f.customer_name, "to_manager_id": f.to_manager_id,
                     "department_id": f.department_id, "follow_up_due": f.follow_up_due}))
                  for f in await reminders.follow_ups_due_between(today, horizon, limit)),
                *(("plan_milestone", m.milestone_id, m.planned_date, DomainEvent(
                    "plan.milestone_due_soon", "plan", m.plan_id, now,
                    {"plan_title": m.plan_title, "milestone_id": m.milestone_id,
                     "title": m.title, "planned_date": m.planned_date, "owner_id": m.owner_id}))
                  for m in await reminders.milestones_due_between(today, horizon, limit)),
                *(("next_contact", c.customer_id, c.due_on, DomainEvent(
                    "customer.contact_due_soon", "customer", c.customer_id, now,
                    {"customer_name": c.customer_name, "due_on": c.due_on},
                    customer_id=c.customer_id))
                  for c in await reminders.contacts_due_between(today, horizon, limit))]
            for kind, record_id, day, event in on_a_day:
                if follow_up_due_soon(calendar, now, day) and \
                        await reminders.claim(kind, record_id, day.isoformat(), now):
                    uow.emit(event)
                    sent += 1
            until = calendar.add_working_time(now, policy.feedback_lead)
            for d in await reminders.feedback_due_between(now, until, limit):
                if due_soon(calendar, now, d.due_at, policy.feedback_lead) and \
                        await reminders.claim(f"feedback_{d.clock}", d.feedback_id,
                                              d.due_at.isoformat(), now):
                    uow.emit(DomainEvent(
                        "feedback.sla_due_soon", "feedback", d.feedback_id, now,
                        {"owner_id": d.owner_id, "type": d.type, "severity": d.severity,
                         "clock": d.clock, "due_at": d.due_at}))
                    sent += 1
            await uow.commit()
        return sent
