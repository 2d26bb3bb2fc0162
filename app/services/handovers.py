"""客户移交 use cases (domain §4): start a handover (one customer or a manager's whole book),
notify, prepare and verify the materials, meet, sign, transfer atomically, follow up, and
report. Every action is decided by the workflow table in the domain, inside one transaction
with the handover's row locked, so two people acting at once never both succeed."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.access.roles import READ_ACROSS_DEPARTMENTS, Role
from app.domain.access.scope import Reach, RecordScope, write_scope
from app.domain.common.calendar import BusinessCalendar
from app.domain.common.errors import (
    FieldError,
    InvalidInput,
    NotFound,
    NotYourAction,
)
from app.domain.common.events import DomainEvent
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest, Sort
from app.domain.common.versions import check_version
from app.domain.customers.model import Customer
from app.domain.handovers import workflow
from app.domain.handovers.access import HandoverReach, reach
from app.domain.handovers.model import (
    ChecklistItem,
    Finding,
    Handover,
    HandoverReason,
    HandoverState,
    Notification,
    Side,
    Signature,
    Stakeholder,
    Step,
    steps,
)
from app.domain.handovers.risk import RiskInputs, assess
from app.domain.handovers.standard import HandoverStandard
from app.domain.risk.matrix import RiskMatrix
from app.services.customers import CustomerService
from app.services.handover_materials import DEFAULT_MATERIALS, Material, MaterialContext
from app.services.policies import (
    BUSINESS_CALENDAR,
    HANDOVER_STANDARD,
    RISK_MATRIX,
    load_policy,
    store_policy,
)
from app.services.ports import (
    Clock,
    CustomerFilter,
    HandoverFilter,
    RequestContext,
    UnitOfWork,
    UnitOfWorkFactory,
)

# The transitions taken through ``transition`` and what each announces (handover.<event>).
TRANSITION_EVENTS = {"notify": "notified", "start_preparation": "preparation_started",
                     "hold_meeting": "meeting_held", "follow_up": "followed_up",
                     "cancel": "cancelled"}
HIGH_RISK_LABELS = frozenset({"high", "critical"})
BOOK_PAGE = 200


# What moves with a transferred customer, besides the owner: each step returns the moved
# items under its name. Later features (open feedback, active plans) add a step.
TransferStep = Callable[[UnitOfWork, Handover, datetime], Awaitable[list[dict[str, Any]]]]


async def _move_change_requests(uow: UnitOfWork, h: Handover,
                                now: datetime) -> list[dict[str, Any]]:
    return await uow.change_requests.reassign_open(h.customer_id, h.from_manager_id,
                                                   h.to_manager_id, now)


async def _move_tasks(uow: UnitOfWork, h: Handover, now: datetime) -> list[dict[str, Any]]:
    return await uow.change_requests.reassign_open_tasks(h.customer_id, h.from_manager_id,
                                                         h.to_manager_id, now)


async def _move_risks(uow: UnitOfWork, h: Handover, now: datetime) -> list[dict[str, Any]]:
    return await uow.risks.reassign_open(h.customer_id, h.from_manager_id, h.to_manager_id,
                                         now)


DEFAULT_TRANSFERS: tuple[tuple[str, str, TransferStep], ...] = (
    # (name in the transfer record, entity type of its events, step)
    ("change_requests", "change_request", _move_change_requests),
    ("tasks", "task", _move_tasks),
    ("risks", "risk", _move_risks),
)


@dataclass(frozen=True)
class NewHandover:
    to_manager_id: UUID
    reason: HandoverReason
    planned_date: date | None = None
    note: str = ""


@dataclass(frozen=True)
class MeetingInput:
    held_on: date
    attendees: list[str]
    minutes: str


@dataclass(frozen=True)
class FollowUpInput:
    contacted_on: date
    channel: str
    outcome: str


@dataclass(frozen=True)
class View:
    """A handover as one caller sees it."""

    handover: Handover
    allowed_actions: list[str]
    steps: list[Step]
    follow_up_overdue: bool


@dataclass(frozen=True)
class BatchView:
    id: UUID
    from_manager_id: UUID
    to_manager_id: UUID
    reason: HandoverReason
    handovers: list[View]
    skipped: list[dict[str, str]]  # customers already in an open handover


class HandoverService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, customers: CustomerService,
                 materials: Sequence[Material] = DEFAULT_MATERIALS,
                 transfers: Sequence[tuple[str, str, TransferStep]] = DEFAULT_TRANSFERS
                 ) -> None:
        self._uow = uow
        self._clock = clock
        self._customers = customers
        self._materials = tuple(materials)
        self._transfers = tuple(transfers)

    # reading -------------------------------------------------------------------------

    async def get(self, ctx: RequestContext, handover_id: UUID) -> View:
        async with self._uow(ctx, write=False) as uow:
            h = await self._visible(uow, ctx, handover_id)
            return await self._view(uow, ctx, h)

    async def list(self, ctx: RequestContext, filters: HandoverFilter,
                   page: PageRequest) -> Page[View]:
        async with self._uow(ctx, write=False) as uow:
            found = await uow.handovers.list(reach(ctx.actor), filters, page)
            actives = {u: await self._active(uow, u)
                       for u in {h.from_manager_id for h in found.items}}
            today = await self._today(uow)
            return Page([self._view_of(h, ctx.actor, actives[h.from_manager_id], today)
                         for h in found.items], found.next_after)

    async def today(self, ctx: RequestContext) -> date:
        async with self._uow(ctx, write=False) as uow:
            return await self._today(uow)

    async def report(self, ctx: RequestContext, handover_id: UUID) -> dict[str, Any]:
        """The handover report (JSON): materials, verifications, findings, signatures, risk
        and its factors, follow-up, and what moved."""
        view = await self.get(ctx, handover_id)
        h = view.handover
        durations = {}
        if h.transferred_at is not None:
            durations["created_to_transferred_days"] = round(
                (h.transferred_at - h.created_at).total_seconds() / 86400, 2)
        return {"view": view, "durations": durations}

    async def summary(self, ctx: RequestContext, since: datetime | None,
                      until: datetime | None, department_id: UUID | None) -> dict[str, Any]:
        """Reports: count, median duration, findings per handover and overdue follow-ups,
        overall, by department and by month."""
        principal = ctx.actor
        # those who read across departments see every handover; a head, their department's
        scope = HandoverReach(everything=bool(principal.roles & READ_ACROSS_DEPARTMENTS),
                              head_of=principal.department_id)
        async with self._uow(ctx, write=False) as uow:
            facts = await uow.handovers.report_facts(scope, since, until, department_id)
            today = await self._today(uow)
        by_department: dict[str, list[Any]] = defaultdict(list)
        by_month: dict[str, list[Any]] = defaultdict(list)
        for f in facts:
            by_department[str(f.department_id)].append(f)
            by_month[f.created_at.strftime("%Y-%m")].append(f)

        def figures(group: list[Any]) -> dict[str, Any]:
            done = [(f.transferred_at - f.created_at).total_seconds() / 86400
                    for f in group if f.transferred_at is not None]
            states: dict[str, int] = defaultdict(int)
            for f in group:
                states[f.state] += 1
            return {
                "count": len(group), "by_state": dict(sorted(states.items())),
                "transferred": len(done),
                "median_days_to_transfer": round(statistics.median(done), 2) if done else None,
                "findings_per_handover": round(sum(f.findings for f in group) / len(group), 2)
                if group else None,
                "overdue_follow_ups": sum(1 for f in group if f.state == "transferred"
                                          and f.follow_up_due is not None
                                          and f.follow_up_due < today)}

        return {"overall": figures(facts),
                "by_department": [{"department_id": k, **figures(v)}
                                  for k, v in sorted(by_department.items())],
                "by_month": [{"month": k, **figures(v)} for k, v in sorted(by_month.items())]}

    # starting ------------------------------------------------------------------------

    async def start(self, ctx: RequestContext, customer_id: UUID, new: NewHandover) -> View:
        """One customer: its owner, a head of its department or an admin starts it."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            # The customer's row lock makes two starts for one customer take turns, so
            # the second finds the first's open handover (409 handover_already_open)
            # instead of tripping the partial unique index (write_conflict).
            customer = await uow.customers.get(customer_id, write_scope(ctx.actor),
                                               for_update=True)
            if customer is None or customer.archived_at is not None:
                raise NotFound(entity="customer")
            self._may_start(ctx.actor, customer.owner_id, customer.department_id)
            await self._receiver(uow, new.to_manager_id, customer.department_id,
                                 customer.owner_id)
            existing = await uow.handovers.open_for_customer(customer.id)
            if existing is not None:
                raise workflow.HandoverAlreadyOpen(handover_id=str(existing))
            h = await self._new(uow, ctx.actor, customer, new, None, now)
            await uow.commit()
            return await self._view(uow, ctx, h)

    async def start_batch(self, ctx: RequestContext, from_manager_id: UUID,
                          new: NewHandover) -> BatchView:
        """All live customers of a manager (e.g. on resignation), each with its own level,
        checklist and state; customers already in an open handover are reported, not
        moved twice."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            manager = await uow.users.get(from_manager_id)
            if manager is None or Role.ACCOUNT_MANAGER not in manager.roles:
                raise InvalidInput([FieldError("/from_manager_id", "manager_unknown")])
            self._may_start(ctx.actor, manager.id, manager.department_id)
            await self._receiver(uow, new.to_manager_id, manager.department_id, manager.id)
            book = await self._book(uow, manager.id)
            if not book:
                raise InvalidInput([FieldError("/from_manager_id", "no_customers_to_hand_over")])
            batch_id = new_id()
            await uow.handovers.add_batch({
                "id": batch_id, "from_manager_id": manager.id,
                "to_manager_id": new.to_manager_id, "reason": new.reason.value,
                "planned_date": new.planned_date, "created_by": ctx.actor.id,
                "created_at": now})
            created, skipped = [], []
            for customer_id in book:
                customer = await uow.customers.get(customer_id, RecordScope(Reach.ALL),
                                                   for_update=True)  # as in ``start``
                assert customer is not None
                existing = await uow.handovers.open_for_customer(customer_id)
                if existing is not None:
                    skipped.append({"customer_id": str(customer_id),
                                    "handover_id": str(existing)})
                    continue
                created.append(await self._new(uow, ctx.actor, customer, new, batch_id, now))
            uow.record("handover_batch.created", "handover_batch", batch_id, after={
                "from_manager_id": str(manager.id), "to_manager_id": str(new.to_manager_id),
                "handovers": [str(h.id) for h in created], "skipped": len(skipped)})
            await uow.commit()
            views = [await self._view(uow, ctx, h) for h in created]
            return BatchView(batch_id, manager.id, new.to_manager_id, new.reason, views, skipped)

    @staticmethod
    async def _book(uow: UnitOfWork, manager_id: UUID) -> list[UUID]:
        """Every live customer the manager owns, page by page (oldest first)."""
        ids: list[UUID] = []
        page = PageRequest(Sort("created_at"), limit=BOOK_PAGE)
        while True:
            found = await uow.customers.list(RecordScope(Reach.ALL),
                                             CustomerFilter(owner_id=manager_id), page)
            ids.extend(c.id for c in found.items)
            if found.next_after is None:
                return ids
            page = PageRequest(page.sort, page.limit, found.next_after)

    async def _new(self, uow: UnitOfWork, principal: Principal, customer: Customer,
                   new: NewHandover, batch_id: UUID | None, now: datetime) -> Handover:
        matrix: RiskMatrix
        standard: HandoverStandard
        matrix, _ = await load_policy(uow, RISK_MATRIX)
        standard, _ = await load_policy(uow, HANDOVER_STANDARD)
        work = await uow.handovers.customer_work(customer.id, customer.owner_id)
        risk = assess(RiskInputs(
            tier=customer.tier, served_since=work.owner_since,
            latest_satisfaction=work.latest_satisfaction, open_complaints=work.open_complaints,
            open_high_risk_changes=sum(1 for cr in work.open_change_requests
                                       if cr["risk_level"] in HIGH_RISK_LABELS),
            open_risks=len(work.open_risks)), matrix, now)
        open_items = len(work.open_change_requests) + len(work.open_tasks) + len(work.open_risks)
        contacts = len(customer.live_contacts())
        level, reasons = standard.choose(customer.tier, matrix.level(risk.likelihood,
                                                                     risk.impact),
                                         open_items, contacts)
        context = MaterialContext(uow, customer, work)
        items = [ChecklistItem(m.key, i, await m.collect(context))
                 for i, m in enumerate(self._materials, 1)]
        h = Handover(
            id=new_id(), batch_id=batch_id, customer_id=customer.id,
            customer_name=customer.name, department_id=customer.department_id,
            from_manager_id=customer.owner_id, to_manager_id=new.to_manager_id,
            reason=new.reason, planned_date=new.planned_date, note=new.note, level=level,
            level_reasons=reasons, risk=risk, state=HandoverState.DRAFT,
            created_by=principal.id, created_at=now, updated_at=now, version=1, items=items)
        await uow.handovers.add(h)
        self._announce(uow, h, "created", None, now, {
            "level": level, "level_reasons": reasons, "risk_level": risk.level,
            "to_manager_id": str(h.to_manager_id), "reason": h.reason})
        return h

    # the process ---------------------------------------------------------------------

    async def record_notification(self, ctx: RequestContext, handover_id: UUID,
                                  stakeholder: Stakeholder, channel: str,
                                  contact_id: UUID | None, note: str) -> View:
        """通知: who was told, when and how; the customer is told through one of its
        contacts, the others are the handover's people."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            h, _, _ = await self._acting(uow, ctx, handover_id, None, "record_notification")
            user_id = {Stakeholder.HANDING_OVER_MANAGER: h.from_manager_id,
                       Stakeholder.RECEIVING_MANAGER: h.to_manager_id}.get(stakeholder)
            if stakeholder is Stakeholder.CUSTOMER_CONTACT:
                customer = await uow.customers.get(h.customer_id, RecordScope(Reach.ALL))
                if customer is None or not customer.has_live_contact(contact_id):
                    raise InvalidInput([FieldError("/contact_id", "contact_unknown")])
            elif contact_id is not None:
                raise InvalidInput([FieldError("/contact_id", "only_for_customer_contact")])
            notification = Notification(new_id(), stakeholder, user_id, contact_id, channel,
                                        now, ctx.actor.id, note)
            await uow.handovers.add_notification(h.id, notification)
            h.notifications.append(notification)
            return await self._save(uow, ctx, h, "stakeholder_notified", now, {
                "stakeholder": stakeholder, "channel": channel})

    async def transition(self, ctx: RequestContext, handover_id: UUID, expected_version: int,
                         action: str, *, meeting: MeetingInput | None = None,
                         follow_up: FollowUpInput | None = None,
                         reason: str | None = None) -> View:
        """notify, start_preparation, hold_meeting, follow_up, cancel."""
        if action not in TRANSITION_EVENTS:
            raise workflow.TransitionNotAllowed(action=action, state="any", allowed="none")
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            h, _, target = await self._acting(uow, ctx, handover_id, expected_version, action)
            data: dict[str, Any] = {"from": h.state, "to": target}
            if action == "notify":
                h.notified_at = now
            elif action == "start_preparation":
                h.preparation_started_at = now
            elif action == "hold_meeting":
                if meeting is None:
                    raise InvalidInput([FieldError("/meeting", "missing")])
                if h.requirements.minutes and not meeting.minutes.strip():
                    raise InvalidInput([FieldError("/minutes", "minutes_required")])
                h.meeting = {"held_on": meeting.held_on.isoformat(),
                             "attendees": meeting.attendees, "minutes": meeting.minutes,
                             "recorded_by": str(ctx.actor.id)}
                h.meeting_held_at = now
            elif action == "follow_up":
                if follow_up is None:
                    raise InvalidInput([FieldError("/follow_up", "missing")])
                if h.transferred_at and follow_up.contacted_on < h.transferred_at.date():
                    raise InvalidInput([FieldError("/contacted_on", "before_transfer")])
                h.follow_up = {"contacted_on": follow_up.contacted_on.isoformat(),
                               "channel": follow_up.channel, "outcome": follow_up.outcome,
                               "recorded_by": str(ctx.actor.id),
                               "on_time": h.follow_up_due is None
                               or follow_up.contacted_on <= h.follow_up_due}
                h.followed_up_at = now
                data["on_time"] = h.follow_up["on_time"]
            elif action == "cancel":
                if not (reason or "").strip():
                    raise InvalidInput([FieldError("/reason", "missing")])
                h.cancelled_at, h.cancel_reason = now, reason
                data["reason"] = reason
            h.state = target
            return await self._save(uow, ctx, h, TRANSITION_EVENTS[action], now, data)

    async def verify(self, ctx: RequestContext, handover_id: UUID, item_key: str) -> View:
        """核对: the caller verifies the item for their side (a head does so for a departed
        handing-over manager)."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            h, _, _ = await self._acting(uow, ctx, handover_id, None, "verify")
            item = self._item(h, item_key)
            side = Side.RECEIVING if ctx.actor.id == h.to_manager_id \
                else Side.HANDING_OVER
            if any(f.open for f in h.findings if f.item_key == item_key):
                raise workflow.PreconditionUnmet(action="verify", reason="open_findings")
            if side is Side.RECEIVING:
                if item.receiving_verified_at is not None:
                    raise workflow.AlreadySigned(item=item_key)
                item.receiving_verified_by, item.receiving_verified_at = \
                    ctx.actor.id, now
            else:
                if item.handing_over_verified_at is not None:
                    raise workflow.AlreadySigned(item=item_key)
                item.handing_over_verified_by, item.handing_over_verified_at = \
                    ctx.actor.id, now
            await uow.handovers.save_item(h.id, item)
            return await self._save(uow, ctx, h, "item_verified", now,
                                    {"item": item_key, "side": side})

    async def raise_finding(self, ctx: RequestContext, handover_id: UUID, item_key: str,
                            text: str) -> View:
        """A discrepancy on an item; it clears that item's verifications (they no longer
        hold) and blocks sign-off until resolved."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            h, _, _ = await self._acting(uow, ctx, handover_id, None, "raise_finding")
            item = self._item(h, item_key)
            finding = Finding(new_id(), item_key, ctx.actor.id, text, now)
            await uow.handovers.add_finding(h.id, finding)
            h.findings.append(finding)
            item.handing_over_verified_by = item.handing_over_verified_at = None
            item.receiving_verified_by = item.receiving_verified_at = None
            await uow.handovers.save_item(h.id, item)
            return await self._save(uow, ctx, h, "finding_raised", now,
                                    {"item": item_key, "finding_id": str(finding.id)})

    async def resolve_finding(self, ctx: RequestContext, handover_id: UUID, finding_id: UUID,
                              resolution: str) -> View:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            h, _, _ = await self._acting(uow, ctx, handover_id, None, "resolve_finding")
            finding = next((f for f in h.findings if f.id == finding_id), None)
            if finding is None:
                raise NotFound(entity="finding")
            if not finding.open:
                raise workflow.PreconditionUnmet(action="resolve_finding",
                                                 reason="finding_already_resolved")
            finding.resolved_by, finding.resolution = ctx.actor.id, resolution
            finding.resolved_at = now
            await uow.handovers.save_finding(finding)
            return await self._save(uow, ctx, h, "finding_resolved", now,
                                    {"item": finding.item_key, "finding_id": str(finding.id)})

    async def sign(self, ctx: RequestContext, handover_id: UUID,
                   expected_version: int) -> View:
        """One signature; the last one the level requires transfers the customer and its
        open work in the same transaction."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            h, facts, _ = await self._acting(uow, ctx, handover_id, expected_version, "sign")
            principal = ctx.actor
            role, on_behalf_of = workflow.signature_role(facts, principal)
            signature = Signature(role, principal.id, now, on_behalf_of)
            await uow.handovers.add_signature(h.id, signature)
            h.signatures.append(signature)
            self._announce(uow, h, "signature_given", None, now, {
                "role": role, "on_behalf_of": str(on_behalf_of) if on_behalf_of else None})
            if not h.missing_signatures():
                h.signed_at = now
                h.state = HandoverState.SIGNED
                self._announce(uow, h, "signed", None, now, {})
                await self._transfer(uow, ctx, h, now)
                return await self._save(uow, ctx, h, "transferred", now, h.transfer or {})
            return await self._save(uow, ctx, h, "signed_by", now, {"role": role})

    async def _transfer(self, uow: UnitOfWork, ctx: RequestContext, h: Handover,
                        now: datetime) -> None:
        """Owner and open work move together or not at all: any failure raises, and the
        unit of work rolls back every statement of this request."""
        customer = await uow.customers.get(h.customer_id, RecordScope(Reach.ALL),
                                           for_update=True)
        if customer is None or customer.owner_id != h.from_manager_id:
            raise workflow.OwnerChanged()
        await self._customers.hand_over(uow, ctx, customer, h.to_manager_id, now,
                                        {"handover_id": str(h.id)})
        moved: dict[str, Any] = {}
        for name, entity, step in self._transfers:
            items = await step(uow, h, now)
            moved[name] = items
            for item in items:
                data = {"handover_id": str(h.id), "from": str(h.from_manager_id),
                        "to": str(h.to_manager_id)}
                uow.record(f"{entity}.reassigned", entity, item["id"], after=data)
                uow.emit(DomainEvent(f"{entity}.reassigned", entity, UUID(item["id"]), now,
                                     data, customer_id=h.customer_id))
        standard: HandoverStandard
        calendar: BusinessCalendar
        standard, _ = await load_policy(uow, HANDOVER_STANDARD)
        calendar, _ = await load_policy(uow, BUSINESS_CALENDAR)
        h.transfer = moved
        h.transferred_at = now
        h.state = HandoverState.TRANSFERRED
        h.follow_up_due = calendar.add_working_days(now, standard.follow_up_working_days[h.level])
        if h.requirements.satisfaction_pulse:
            h.pulse_due_on = (now + timedelta(days=standard.satisfaction_pulse_days)).date()

    async def escalate_overdue_follow_ups(self, ctx: RequestContext, limit: int = 500) -> int:
        """One event per follow-up past its due day (a scheduler calls this); safe to run
        from several processes at once."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            calendar, _ = await load_policy(uow, BUSINESS_CALENDAR)
            today = calendar.local_date(now)
            found = await uow.handovers.overdue_follow_ups(today, limit)
            for h in found:
                h.follow_up_escalated_at = now
                await uow.handovers.save(h)
                self._announce(uow, h, "follow_up_overdue", None, now, {
                    "follow_up_due": h.follow_up_due.isoformat() if h.follow_up_due else None,
                    "to_manager_id": str(h.to_manager_id)})
            await uow.commit()
            return len(found)

    # policy --------------------------------------------------------------------------

    async def standard(self, ctx: RequestContext) -> tuple[HandoverStandard, int]:
        async with self._uow(ctx, write=False) as uow:
            return await load_policy(uow, HANDOVER_STANDARD)

    async def set_standard(self, ctx: RequestContext, standard: HandoverStandard,
                           expected_version: int) -> int:
        async with self._uow(ctx) as uow:
            actor = str(ctx.actor.id)
            version = await store_policy(uow, HANDOVER_STANDARD, standard, expected_version,
                                         actor, self._clock.now())
            await uow.commit()
            return version

    # helpers -------------------------------------------------------------------------

    @staticmethod
    def _may_start(principal: Principal, owner_id: UUID, department_id: UUID) -> None:
        if Role.ADMIN in principal.roles or principal.id == owner_id:
            return
        if Role.DEPARTMENT_HEAD in principal.roles and principal.department_id == department_id:
            return
        raise NotYourAction(action="start_handover",
                            parties="the owner, department_head, admin")

    @staticmethod
    async def _receiver(uow: UnitOfWork, user_id: UUID, department_id: UUID,
                        owner_id: UUID) -> None:
        """The receiving manager: an active account manager of the same department, and
        not the one handing over."""
        user = await uow.users.get(user_id)
        reason = None
        if user is None or not user.active:
            reason = "receiving_manager_unknown"
        elif Role.ACCOUNT_MANAGER not in user.roles:
            reason = "receiving_manager_not_account_manager"
        elif user.department_id != department_id:
            reason = "receiving_manager_other_department"
        elif user.id == owner_id:
            reason = "receiving_manager_is_owner"
        if reason:
            raise InvalidInput([FieldError("/to_manager_id", reason)])

    @staticmethod
    def _item(h: Handover, key: str) -> ChecklistItem:
        item = h.item(key)
        if item is None:
            raise NotFound(entity="checklist_item")
        return item

    async def _visible(self, uow: UnitOfWork, ctx: RequestContext, handover_id: UUID, *,
                       for_update: bool = False) -> Handover:
        h = await uow.handovers.get(handover_id, reach(ctx.actor), for_update=for_update)
        if h is None:
            raise NotFound(entity="handover")
        return h

    async def _acting(self, uow: UnitOfWork, ctx: RequestContext, handover_id: UUID,
                      expected_version: int | None,
                      action: str) -> tuple[Handover, workflow.Facts, HandoverState]:
        """The handover locked (concurrent actions take turns), its version checked, and
        the workflow's verdict on ``action``: the state it leads to, or the refusal."""
        h = await self._visible(uow, ctx, handover_id, for_update=True)
        if expected_version is not None:
            check_version(h.version, expected_version)
        facts = workflow.Facts(h, await self._active(uow, h.from_manager_id))
        return h, facts, workflow.check(facts, action, ctx.actor)

    @staticmethod
    async def _active(uow: UnitOfWork, user_id: UUID) -> bool:
        user = await uow.users.get(user_id)
        return user is not None and user.active

    async def _save(self, uow: UnitOfWork, ctx: RequestContext, h: Handover, event: str,
                    now: datetime, data: dict[str, Any]) -> View:
        before = h.snapshot()
        h.version += 1
        h.updated_at = now
        await uow.handovers.save(h)
        self._announce(uow, h, event, before, now, data)
        await uow.commit()
        return await self._view(uow, ctx, h)

    @staticmethod
    def _announce(uow: UnitOfWork, h: Handover, event: str, before: dict[str, Any] | None,
                  now: datetime, data: dict[str, Any]) -> None:
        """Audited and announced in the same transaction; the customer's timeline shows it."""
        name = f"handover.{event}"
        clean = {k: v if isinstance(v, (str, int, bool, list, dict)) or v is None else str(v)
                 for k, v in data.items()}
        uow.record(name, "handover", h.id, before=before, after={**h.snapshot(), **clean})
        uow.emit(DomainEvent(name, "handover", h.id, now,
                             {"state": h.state, "level": h.level, **clean},
                             customer_id=h.customer_id))

    async def _view(self, uow: UnitOfWork, ctx: RequestContext, h: Handover) -> View:
        active = await self._active(uow, h.from_manager_id)
        return self._view_of(h, ctx.actor, active, await self._today(uow))

    async def _today(self, uow: UnitOfWork) -> date:
        """The business calendar's day: follow-ups fall due in local days."""
        calendar: BusinessCalendar
        calendar, _ = await load_policy(uow, BUSINESS_CALENDAR)
        return calendar.local_date(self._clock.now())

    @staticmethod
    def _view_of(h: Handover, principal: Principal, from_active: bool, today: date) -> View:
        facts = workflow.Facts(h, from_active)
        overdue = (h.state is HandoverState.TRANSFERRED and h.follow_up_due is not None
                   and h.follow_up_due < today)
        return View(h, workflow.allowed_actions(facts, principal), steps(h), overdue)

