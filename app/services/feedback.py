"""反馈 use cases: record feedback from any channel, walk its closed loop (the workflow
table in the domain decides every step), keep its SLA clocks in working time and announce
each breach once; report volumes, SLA compliance and times to acknowledge and resolve."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.access.scope import Reach, RecordScope, read_scope, write_scope
from app.domain.common.calendar import BusinessCalendar
from app.domain.common.errors import FieldError, InvalidInput, NotFound
from app.domain.common.events import DomainEvent
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest
from app.domain.common.versions import check_version
from app.domain.feedback import workflow
from app.domain.feedback.model import (
    FeedbackChannel,
    FeedbackItem,
    FeedbackState,
    FeedbackType,
    Severity,
)
from app.domain.feedback.sla import (
    SlaPolicy,
    SlaStatus,
    due_times,
    measure,
    resolve_clock_restarted,
)
from app.domain.handovers.access import HandoverReach
from app.domain.handovers.model import Handover
from app.domain.training.competence import Duty, TrainingRequired
from app.services.handover_materials import Material, MaterialContext
from app.services.policies import BUSINESS_CALENDAR, FEEDBACK_SLA, PolicySetting, load_policy
from app.services.ports import Clock, RequestContext
from app.services.ports.feedback import FeedbackFilter, FeedbackRecord
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.training import competence_for, record_refusal


@dataclass(frozen=True)
class NewFeedback:
    customer_id: UUID
    channel: FeedbackChannel
    type: FeedbackType
    severity: Severity
    summary: str
    received_at: datetime | None = None  # when it arrived (default: now)
    change_request_id: UUID | None = None
    plan_id: UUID | None = None
    handover_id: UUID | None = None


@dataclass(frozen=True)
class ActionInput:
    resolution: str = ""
    reason: str = ""
    contact_id: UUID | None = None
    agreed_at: datetime | None = None
    note: str = ""


@dataclass(frozen=True)
class View:
    record: FeedbackRecord
    allowed_actions: list[str]
    sla: SlaStatus


class FeedbackService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self.sla_setting = PolicySetting(uow, clock, FEEDBACK_SLA)

    async def create(self, ctx: RequestContext, new: NewFeedback) -> View:
        """Feedback about a customer the caller may write; the customer's manager answers
        for it, and its SLA clocks start when it arrived."""
        principal = ctx.actor
        now = self._clock.now()
        received = new.received_at or now
        if received > now or received < now - timedelta(days=366):
            raise InvalidInput([FieldError("/received_at", "out_of_range")])
        async with self._uow(ctx) as uow:
            customer = await uow.customers.get(new.customer_id, write_scope(principal))
            if customer is None or customer.archived_at is not None:
                raise InvalidInput([FieldError("/customer_id", "customer_unknown")])
            await self._check_links(uow, new)
            item = FeedbackItem(
                id=new_id(), customer_id=customer.id, department_id=customer.department_id,
                owner_id=customer.owner_id, channel=new.channel, type=new.type,
                severity=new.severity, summary=new.summary, state=FeedbackState.RECEIVED,
                received_at=received, change_request_id=new.change_request_id,
                plan_id=new.plan_id, handover_id=new.handover_id)
            record = await receive(uow, item, principal.id, now)
            _, calendar = await self._clocks(uow)
            await uow.commit()
            return self._view(record, principal, calendar, now)

    async def get(self, ctx: RequestContext, feedback_id: UUID) -> View:
        principal = ctx.actor
        async with self._uow(ctx, write=False) as uow:
            record = await uow.feedback.get(feedback_id, read_scope(principal))
            if record is None:
                raise NotFound(entity="feedback")
            _, calendar = await self._clocks(uow)
        return self._view(record, principal, calendar, self._clock.now())

    async def list(self, ctx: RequestContext, filters: FeedbackFilter,
                   page: PageRequest) -> Page[View]:
        principal = ctx.actor
        now = self._clock.now()
        async with self._uow(ctx, write=False) as uow:
            found = await uow.feedback.list(read_scope(principal), filters, page)
            _, calendar = await self._clocks(uow)
        return Page([self._view(r, principal, calendar, now) for r in found.items],
                    found.next_after)

    async def act(self, ctx: RequestContext, feedback_id: UUID, expected_version: int,
                  action: str, data: ActionInput) -> View:
        principal = ctx.actor
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            record = await uow.feedback.get(feedback_id, read_scope(principal),
                                            for_update=True)
            if record is None:
                raise NotFound(entity="feedback")
            check_version(record.version, expected_version)
            before = record.item
            competence = await competence_for(uow, principal, Duty.RESOLVE_FEEDBACK, now) \
                if action == "resolve" else None
            try:
                item = workflow.apply(
                    before, action, principal, now, resolution=data.resolution,
                    reason=data.reason, contact_id=data.contact_id, agreed_at=data.agreed_at,
                    note=data.note, live_contacts=await self._live_contacts(uow, before, data),
                    competence=competence)
            except TrainingRequired as refusal:
                await record_refusal(uow, refusal, "feedback", feedback_id, now)
                raise
            policy, calendar = await self._clocks(uow)
            record = replace(record, item=item, updated_at=now, version=record.version + 1)
            if resolve_clock_restarted(before, item):
                _, record.resolve_due_at = due_times(item, policy, calendar)
                record.resolve_breached_at = None
            await uow.feedback.save(record)
            self._announce(uow, record, workflow.EVENTS[action], before.state, now,
                           {name: getattr(data, name)
                            for name in workflow.EVENT_INPUTS.get(action, ())})
            await uow.commit()
            return self._view(record, principal, calendar, now)

    @staticmethod
    async def _live_contacts(uow: UnitOfWork, item: FeedbackItem,
                             data: ActionInput) -> frozenset[UUID]:
        """The customer's live contacts, read only when the action names a contact."""
        if data.contact_id is None:
            return frozenset()
        customer = await uow.customers.get(item.customer_id, RecordScope(Reach.ALL))
        return frozenset(c.id for c in customer.live_contacts()) if customer else frozenset()

    async def announce_breaches(self, ctx: RequestContext, limit: int = 500) -> int:
        """One event per clock that ran out (``feedback.acknowledge_overdue``,
        ``feedback.resolve_overdue``); a scheduler calls this, from any number of
        processes."""
        now = self._clock.now()
        count = 0
        async with self._uow(ctx) as uow:
            for record in await uow.feedback.breaches_to_announce(now, limit):
                item = record.item
                if item.acknowledged_at is None and record.acknowledge_due_at < now \
                        and record.acknowledge_breached_at is None:
                    record.acknowledge_breached_at = now
                    self._emit(uow, record, "acknowledge_overdue", now,
                               {"due_at": record.acknowledge_due_at.isoformat()})
                    count += 1
                if item.is_open and record.resolve_due_at < now \
                        and record.resolve_breached_at is None:
                    record.resolve_breached_at = now
                    self._emit(uow, record, "resolve_overdue", now,
                               {"due_at": record.resolve_due_at.isoformat()})
                    count += 1
                await uow.feedback.save(record)
            await uow.commit()
        return count

    # report --------------------------------------------------------------------------

    async def report(self, ctx: RequestContext, since: datetime | None, until: datetime | None,
                     department_id: UUID | None) -> dict[str, Any]:
        """Volumes, SLA compliance (share of clocks met, of those that ran), and working
        hours to acknowledge and to resolve (median and mean)."""
        principal = ctx.actor
        now = self._clock.now()
        async with self._uow(ctx, write=False) as uow:
            records = await uow.feedback.in_period(read_scope(principal), since, until,
                                                   department_id)
            _, calendar = await self._clocks(uow)

        def hours(start: datetime, end: datetime | None) -> float | None:
            if end is None:
                return None
            return calendar.working_time_between(start, end).total_seconds() / 3600

        def clock(done: list[datetime | None], due: list[datetime]) -> dict[str, Any]:
            ran = [(d, u) for d, u in zip(done, due, strict=True) if d is not None or u < now]
            met = sum(1 for d, u in ran if d is not None and d <= u)
            return {"measured": len(ran), "met": met,
                    "compliance_percent": round(100 * met / len(ran), 1) if ran else None}

        def spread(values: list[float | None]) -> dict[str, Any]:
            known = [v for v in values if v is not None]
            return {"n": len(known),
                    "median_working_hours": round(statistics.median(known), 2) if known
                    else None,
                    "mean_working_hours": round(statistics.fmean(known), 2) if known else None}

        items = [r.item for r in records]
        return {
            "total": len(items),
            "by_type": dict(sorted(Counter(i.type.value for i in items).items())),
            "by_severity": dict(sorted(Counter(i.severity.value for i in items).items())),
            "by_state": dict(sorted(Counter(i.state.value for i in items).items())),
            "by_channel": dict(sorted(Counter(i.channel.value for i in items).items())),
            "acknowledge_sla": clock([i.acknowledged_at for i in items],
                                     [r.acknowledge_due_at for r in records]),
            "resolve_sla": clock([i.resolved_at for i in items],
                                 [r.resolve_due_at for r in records]),
            "time_to_acknowledge": spread([hours(i.received_at, i.acknowledged_at)
                                           for i in items]),
            "time_to_resolve": spread([hours(i.received_at, i.resolved_at) for i in items]),
        }

    # helpers -------------------------------------------------------------------------

    @staticmethod
    async def _check_links(uow: UnitOfWork, new: NewFeedback) -> None:
        """A linked change request, plan or handover must be about the same customer."""
        if new.change_request_id is not None:
            cr = await uow.change_requests.get(new.change_request_id, RecordScope(Reach.ALL))
            if cr is None or cr.customer_id != new.customer_id:
                raise InvalidInput([FieldError("/change_request_id", "change_request_unknown")])
        if new.plan_id is not None \
                and await uow.plans.customer_of(new.plan_id) != new.customer_id:
            raise InvalidInput([FieldError("/plan_id", "plan_unknown")])
        if new.handover_id is not None:
            handover = await uow.handovers.get(new.handover_id, HandoverReach(everything=True))
            if handover is None or handover.customer_id != new.customer_id:
                raise InvalidInput([FieldError("/handover_id", "handover_unknown")])

    @staticmethod
    async def _clocks(uow: UnitOfWork) -> tuple[SlaPolicy, BusinessCalendar]:
        policy, _ = await load_policy(uow, FEEDBACK_SLA)
        calendar, _ = await load_policy(uow, BUSINESS_CALENDAR)
        return policy, calendar

    @staticmethod
    def _view(record: FeedbackRecord, principal: Principal, calendar: BusinessCalendar,
              now: datetime) -> View:
        status = measure(record.item, record.acknowledge_due_at, record.resolve_due_at,
                         calendar, now)
        return View(record, workflow.allowed_actions(record.item, principal), status)

    @staticmethod
    def _announce(uow: UnitOfWork, record: FeedbackRecord, event: str, before: str | None,
                  now: datetime, data: dict[str, Any]) -> None:
        """A change of the item: audited, announced, on the customer's timeline."""
        item = record.item
        uow.record_change(f"feedback.{event}", "feedback", item.id,
                          before={"state": before} if before else None,
                          after={"state": item.state, "version": record.version, **data},
                          event=_event_data(record, data), at=now,
                          customer_id=item.customer_id)

    @staticmethod
    def _emit(uow: UnitOfWork, record: FeedbackRecord, event: str, now: datetime,
              data: dict[str, Any]) -> None:
        """A clock that ran out: announced, but no one changed the item."""
        uow.emit(DomainEvent(f"feedback.{event}", "feedback", record.item.id, now,
                             _event_data(record, data), customer_id=record.item.customer_id))


async def receive(uow: UnitOfWork, item: FeedbackItem, recorded_by: UUID,
                  now: datetime) -> FeedbackRecord:
    """Stores a new item with its SLA clocks started and announces it: the one way feedback
    comes in, from a person here or from a customer through another feature (a comment on a
    shared progress report)."""
    policy, calendar = await FeedbackService._clocks(uow)
    acknowledge_due, resolve_due = due_times(item, policy, calendar)
    record = FeedbackRecord(item, acknowledge_due, resolve_due, recorded_by, now, now, 1)
    await uow.feedback.add(record)
    FeedbackService._announce(uow, record, "received", None, now, {
        "type": item.type, "severity": item.severity, "channel": item.channel})
    return record


def _event_data(record: FeedbackRecord, data: dict[str, Any]) -> dict[str, Any]:
    item = record.item
    return {"state": item.state, "type": item.type, "severity": item.severity,
            "owner_id": item.owner_id, **data}


# What feedback adds to a handover: its open items on the checklist, and moving them to
# the receiving manager with the customer (wired in app.main).

async def _open_feedback(ctx: MaterialContext) -> dict[str, Any]:
    open_items = await ctx.uow.feedback.open_of_customer(ctx.customer.id)
    return {"count": len(open_items),
            "feedback": [{"id": str(r.item.id), "type": r.item.type,
                          "severity": r.item.severity, "state": r.item.state,
                          "summary": r.item.summary[:200],
                          "resolve_due_at": r.resolve_due_at.isoformat()}
                         for r in open_items]}


async def _move_feedback(uow: UnitOfWork, h: Handover, now: datetime) -> list[dict[str, Any]]:
    return await uow.feedback.reassign_open(h.customer_id, h.from_manager_id, h.to_manager_id,
                                            now)


HANDOVER_MATERIAL = Material("open_feedback", _open_feedback)
HANDOVER_TRANSFER = ("feedback", "feedback", _move_feedback)

