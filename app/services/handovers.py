"""客户移交 use cases (domain §4): start a handover (one customer or a manager's whole book),
notify, prepare and verify the materials, meet, sign, transfer atomically, follow up, and
report. Every action is decided and takes effect in the domain (``effects.apply``); a use
case loads, applies, saves and commits in one transaction with the handover's row locked,
so two people acting at once never both succeed, and runs what needs storage itself (the
materials at the start, the transfer's steps)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.access.roles import READ_ACROSS_DEPARTMENTS, Role
from app.domain.access.scope import Reach, RecordScope, write_scope
from app.domain.common.calendar import BusinessCalendar
from app.domain.common.errors import FieldError, InvalidInput, NotFound
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest, Sort
from app.domain.common.versions import AnyOf, check_version
from app.domain.customers.model import Customer
from app.domain.handovers import effects, workflow
from app.domain.handovers import report as reports
from app.domain.handovers.access import reach
from app.domain.handovers.effects import FollowUpInput, Inputs, MeetingInput, Outcome
from app.domain.handovers.model import (
    ChecklistItem,
    Handover,
    HandoverReason,
    HandoverState,
    Stakeholder,
    Step,
    steps,
)
from app.domain.handovers.risk import RiskInputs, assess
from app.domain.handovers.standard import HandoverStandard
from app.domain.handovers.starting import check_receiver, may_start
from app.domain.reports.figures import handover_outcomes
from app.domain.reports.working_time import day_number, span, working_days
from app.domain.risk.matrix import RiskMatrix
from app.domain.training.competence import Duty, TrainingRequired
from app.services.customers import CustomerService
from app.services.handover_materials import DEFAULT_MATERIALS, Material, MaterialContext
from app.services.policies import (
    BUSINESS_CALENDAR,
    HANDOVER_STANDARD,
    RISK_MATRIX,
    PolicySetting,
    load_policy,
)
from app.services.ports import Clock, RequestContext
from app.services.ports.customers import CustomerFilter
from app.services.ports.handovers import HandoverFilter
from app.services.ports.reports import ReportFilter
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.training import competence_for, record_refusal

HIGH_RISK_LABELS = frozenset({"high", "critical"})
BOOK_PAGE = 200
# How long after a transfer a churn counts against it, and how far before and after it
# satisfaction answers are compared (domain §10).
OUTCOME_DAYS = 90

# The version an action was taken on (If-Match); None where the client may leave it out.
Expected = int | AnyOf | None


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
class View:
    """A handover as one caller sees it."""

    handover: Handover
    allowed_actions: list[str]
    steps: list[Step]
    follow_up_overdue: bool
    transfer_overdue: bool = False


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
        self.standard_setting = PolicySetting(uow, clock, HANDOVER_STANDARD)

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
        return {"view": view, "durations": reports.durations(view.handover)}

    async def summary(self, ctx: RequestContext, since: datetime | None,
                      until: datetime | None, department_id: UUID | None) -> dict[str, Any]:
        """Reports: count, median duration, findings per handover and overdue follow-ups,
        overall, by department and by month."""
        principal = ctx.actor
        # those who read across departments see every handover; others, their department's
        records = RecordScope(Reach.ALL) if principal.roles & READ_ACROSS_DEPARTMENTS else \
            RecordScope(Reach.DEPARTMENT, department_id=principal.department_id)
        wanted = ReportFilter(records, since, until, department_id)
        now = self._clock.now()
        async with self._uow(ctx, write=False) as uow:
            today = await self._today(uow)
            tallied = await uow.reports.handover_summary(wanted, today)
            calendar: BusinessCalendar
            calendar, _ = await load_policy(uow, BUSINESS_CALENDAR)
            covered = span(await uow.reports.handover_span(wanted), now)
            assert covered is not None
            days = working_days(calendar, *covered)
            found = await uow.reports.handover_outcomes(
                wanted, days, day_number(calendar.local_date(now)), OUTCOME_DAYS)
        return {**reports.summary(tallied.overall, tallied.by_department, tallied.by_month),
                "outcomes": handover_outcomes(
                    transferred=found.transferred, churned=found.churned,
                    churned_so_far=found.churned_so_far, satisfaction=found.satisfaction,
                    customers_compared=found.customers_compared, handovers=found.handovers,
                    findings=found.findings)}

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
            may_start(ctx.actor, customer.owner_id, customer.department_id)
            check_receiver(await uow.users.get(new.to_manager_id), customer.department_id,
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
            may_start(ctx.actor, manager.id, manager.department_id)
            check_receiver(await uow.users.get(new.to_manager_id), manager.department_id,
                           manager.id)
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
            uow.record_change("handover_batch.created", "handover_batch", batch_id, after={
                "from_manager_id": manager.id, "to_manager_id": new.to_manager_id,
                "handovers": [h.id for h in created], "skipped": len(skipped)})
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
        context = MaterialContext(uow, customer, work, now)
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
                                  contact_id: UUID | None, note: str,
                                  expected_version: Expected = None) -> View:
        """通知: who was told, when and how (the customer through one of its contacts)."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            facts = await self._acting(uow, ctx, handover_id, expected_version)
            customer = await uow.customers.get(facts.handover.customer_id,
                                               RecordScope(Reach.ALL))
            live = frozenset(c.id for c in customer.live_contacts()) if customer else frozenset()
            outcome = effects.apply(facts, "record_notification", ctx.actor, now, Inputs(
                notification=effects.NotificationInput(stakeholder, channel, contact_id, note,
                                                        live)))
            h = outcome.handover
            await uow.handovers.add_notification(h.id, h.notifications[-1])
            return await self._save(uow, ctx, facts.handover, outcome, now)

    async def transition(self, ctx: RequestContext, handover_id: UUID, expected_version: int,
                         action: str, *, meeting: MeetingInput | None = None,
                         follow_up: FollowUpInput | None = None,
                         reason: str | None = None) -> View:
        """notify, start_preparation, hold_meeting, follow_up, cancel."""
        effects.require_transition(action)
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            facts = await self._acting(uow, ctx, handover_id, expected_version)
            outcome = effects.apply(facts, action, ctx.actor, now, Inputs(
                meeting=meeting, follow_up=follow_up, reason=reason))
            return await self._save(uow, ctx, facts.handover, outcome, now)

    async def verify(self, ctx: RequestContext, handover_id: UUID, item_key: str,
                     expected_version: Expected = None) -> View:
        """核对: the caller verifies the item for their side."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            facts = await self._acting(uow, ctx, handover_id, expected_version)
            outcome = effects.apply(facts, "verify", ctx.actor, now, Inputs(item_key=item_key))
            await uow.handovers.save_item(facts.handover.id, self._item(outcome, item_key))
            return await self._save(uow, ctx, facts.handover, outcome, now)

    async def raise_finding(self, ctx: RequestContext, handover_id: UUID, item_key: str,
                            text: str, expected_version: Expected = None) -> View:
        """A discrepancy on an item; it blocks sign-off until resolved."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            facts = await self._acting(uow, ctx, handover_id, expected_version)
            outcome = effects.apply(facts, "raise_finding", ctx.actor, now,
                                    Inputs(item_key=item_key, text=text))
            h = outcome.handover
            await uow.handovers.add_finding(h.id, h.findings[-1])
            await uow.handovers.save_item(h.id, self._item(outcome, item_key))
            return await self._save(uow, ctx, facts.handover, outcome, now)

    async def resolve_finding(self, ctx: RequestContext, handover_id: UUID, finding_id: UUID,
                              resolution: str, expected_version: Expected = None) -> View:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            facts = await self._acting(uow, ctx, handover_id, expected_version)
            outcome = effects.apply(facts, "resolve_finding", ctx.actor, now,
                                    Inputs(finding_id=finding_id, resolution=resolution))
            resolved = outcome.handover.finding(finding_id)
            assert resolved is not None  # apply refuses an unknown finding
            await uow.handovers.save_finding(resolved)
            return await self._save(uow, ctx, facts.handover, outcome, now)

    async def sign(self, ctx: RequestContext, handover_id: UUID,
                   expected_version: int) -> View:
        """One signature; the last one the level requires transfers the customer and its
        open work in the same transaction."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            facts = await self._acting(uow, ctx, handover_id, expected_version)
            competence = await competence_for(uow, ctx.actor, Duty.SIGN_HANDOVER, now) \
                if Role.DEPARTMENT_HEAD in ctx.actor.roles else None
            try:
                outcome = effects.apply(facts, "sign", ctx.actor, now,
                                        Inputs(competence=competence))
            except TrainingRequired as refusal:
                await record_refusal(uow, refusal, "handover", handover_id, now)
                raise
            h = outcome.handover
            await uow.handovers.add_signature(h.id, h.signatures[-1])
            if outcome.transfer_due:
                outcome = await self._transfer(uow, ctx, outcome, now)
            return await self._save(uow, ctx, facts.handover, outcome, now)

    async def _transfer(self, uow: UnitOfWork, ctx: RequestContext, signed: Outcome,
                        now: datetime) -> Outcome:
        """Owner and open work move together or not at all: any failure raises, and the
        unit of work rolls back every statement of this request."""
        self._tell(uow, signed.told(), now)
        h = signed.handover
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
                data = {"handover_id": h.id, "from": h.from_manager_id, "to": h.to_manager_id}
                uow.record_change(f"{entity}.reassigned", entity, UUID(item["id"]), after=data,
                                  event=data, at=now, customer_id=h.customer_id)
        standard: HandoverStandard
        calendar: BusinessCalendar
        standard, _ = await load_policy(uow, HANDOVER_STANDARD)
        calendar, _ = await load_policy(uow, BUSINESS_CALENDAR)
        return effects.transferred(h, now, moved, standard, calendar)

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

    # helpers -------------------------------------------------------------------------

    async def _visible(self, uow: UnitOfWork, ctx: RequestContext, handover_id: UUID, *,
                       for_update: bool = False) -> Handover:
        h = await uow.handovers.get(handover_id, reach(ctx.actor), for_update=for_update)
        if h is None:
            raise NotFound(entity="handover")
        return h

    async def _acting(self, uow: UnitOfWork, ctx: RequestContext, handover_id: UUID,
                      expected_version: Expected) -> workflow.Facts:
        """The handover locked (concurrent actions take turns), its version checked, and
        what the workflow decides on: whether its handing-over manager is still active."""
        h = await self._visible(uow, ctx, handover_id, for_update=True)
        if expected_version is not None:
            check_version(h.version, expected_version)
        return workflow.Facts(h, await self._active(uow, h.from_manager_id))

    @staticmethod
    def _item(outcome: Outcome, key: str) -> ChecklistItem:
        item = outcome.handover.item(key)
        assert item is not None  # apply refuses an unknown item
        return item

    @staticmethod
    async def _active(uow: UnitOfWork, user_id: UUID) -> bool:
        user = await uow.users.get(user_id)
        return user is not None and user.active

    async def _save(self, uow: UnitOfWork, ctx: RequestContext, loaded: Handover,
                    outcome: Outcome, now: datetime) -> View:
        """What happened on the way told, then the handover saved with its event; the
        audit entry's ``before`` is the handover as it was loaded."""
        self._tell(uow, outcome.announced, now)
        h = replace(outcome.handover, version=outcome.handover.version + 1, updated_at=now)
        await uow.handovers.save(h)
        self._announce(uow, h, outcome.event, loaded.snapshot(), now, outcome.data)
        await uow.commit()
        return await self._view(uow, ctx, h)

    def _tell(self, uow: UnitOfWork, told: Sequence[effects.Event], now: datetime) -> None:
        for event in told:
            self._announce(uow, event.handover, event.name, None, now, event.data)

    @staticmethod
    def _announce(uow: UnitOfWork, h: Handover, event: str, before: dict[str, Any] | None,
                  now: datetime, data: dict[str, Any]) -> None:
        """Audited and announced in the same transaction; the customer's timeline shows it."""
        uow.record_change(f"handover.{event}", "handover", h.id, before=before,
                          after={**h.snapshot(), **data},
                          event={"state": h.state, "level": h.level,
                                 "customer_name": h.customer_name,
                                 "from_manager_id": h.from_manager_id,
                                 "to_manager_id": h.to_manager_id,
                                 "department_id": h.department_id, **data}, at=now,
                          customer_id=h.customer_id)

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
        return View(h, workflow.allowed_actions(workflow.Facts(h, from_active), principal),
                    steps(h), reports.follow_up_overdue(h.state, h.follow_up_due, today),
                    reports.transfer_overdue(h.state, h.planned_date, today))

