"""沟通及时 · 回访 use cases: a customer's interactions (on its timeline), the contact
cadence per tier (an administrator setting), each customer's next contact due in working
days, and the scheduler hook that announces an overdue contact once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from app.domain.access.scope import Reach, RecordScope, read_scope, write_scope
from app.domain.common.errors import NotFound
from app.domain.common.events import DomainEvent
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest
from app.domain.customers.model import Customer
from app.domain.interactions.model import (
    CadencePolicy,
    Interaction,
    InteractionKind,
    check,
    is_overdue,
    next_contact_due,
)
from app.services.policies import BUSINESS_CALENDAR, PolicySetting, load_policy, stored_as
from app.services.ports import Clock, RequestContext
from app.services.ports.interactions import Schedule
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

CONTACT_CADENCE = stored_as("contact_cadence", CadencePolicy)
BATCH = 200


@dataclass(frozen=True)
class NewInteraction:
    kind: InteractionKind
    occurred_at: datetime
    summary: str
    participants: tuple[str, ...] = ()
    contact_ids: tuple[UUID, ...] = ()
    next_step: str = ""


@dataclass(frozen=True)
class Cadence:
    tier: str
    working_days: int
    last_contact_at: datetime | None
    next_contact_due: date
    overdue: bool


class ContactCadenceSettings(PolicySetting[CadencePolicy]):
    kind = CONTACT_CADENCE


class InteractionService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def record(self, ctx: RequestContext, customer_id: UUID,
                     new: NewInteraction) -> Interaction:
        """An interaction with a customer you may write; it resets the contact clock."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            customer = await uow.customers.get(customer_id, write_scope(ctx.actor))
            if customer is None or customer.archived_at is not None:
                raise NotFound(entity="customer")
            interaction = Interaction(
                id=new_id(), customer_id=customer.id, kind=new.kind,
                occurred_at=new.occurred_at, recorded_by=ctx.actor.id,
                summary=new.summary.strip(), created_at=now,
                participants=list(new.participants), contact_ids=list(new.contact_ids),
                next_step=new.next_step.strip())
            check(interaction, now, frozenset(c.id for c in customer.live_contacts()))
            await uow.interactions.add(interaction)
            await self._reschedule(uow, customer, now)
            data = {"kind": interaction.kind, "occurred_at": interaction.occurred_at,
                    "summary": interaction.summary[:200], "next_step": interaction.next_step}
            uow.record_change("customer.interaction_recorded", "interaction", interaction.id,
                              after=data, event=data, at=now, customer_id=customer.id)
            await uow.commit()
            return interaction

    async def list(self, ctx: RequestContext, customer_id: UUID,
                   page: PageRequest) -> Page[Interaction]:
        async with self._uow(ctx, write=False) as uow:
            await self._readable(uow, ctx, customer_id)
            return await uow.interactions.list(customer_id, page)

    async def cadence(self, ctx: RequestContext, customer_id: UUID) -> Cadence:
        async with self._uow(ctx, write=False) as uow:
            customer = await self._readable(uow, ctx, customer_id)
            policy, _ = await load_policy(uow, CONTACT_CADENCE)
            calendar, _ = await load_policy(uow, BUSINESS_CALENDAR)
            last = await uow.interactions.latest_at(customer.id)
            due = next_contact_due(last or customer.created_at, customer.tier, policy, calendar)
            today = calendar.local_date(self._clock.now())
            return Cadence(customer.tier.value, policy.working_days[customer.tier], last, due,
                           is_overdue(due, today))

    async def announce_overdue(self, ctx: RequestContext) -> int:
        """The scheduler hook (and ``accord escalate``): brings every live customer's
        schedule up to date (its tier or the cadence may have changed) and announces
        ``customer.contact_overdue`` once per lapsed due date. Returns the announcements."""
        announced, after = 0, None
        while True:
            async with self._uow(ctx) as uow:
                batch = await uow.customers.all_ids(after, BATCH)
                now = self._clock.now()
                for customer_id in batch:
                    customer = await uow.customers.get(customer_id, RecordScope(Reach.ALL))
                    if customer is None or customer.archived_at is not None:
                        continue
                    announced += await self._reschedule(uow, customer, now)
                await uow.commit()
            if len(batch) < BATCH:
                return announced
            after = batch[-1]

    @staticmethod
    async def _reschedule(uow: UnitOfWork, customer: Customer, now: datetime) -> int:
        """The customer's next contact due from its latest interaction (or, with none yet,
        from when it became a customer); announces a lapsed due date once. 1 if it did."""
        policy, _ = await load_policy(uow, CONTACT_CADENCE)
        calendar, _ = await load_policy(uow, BUSINESS_CALENDAR)
        last = await uow.interactions.latest_at(customer.id) or customer.created_at
        due = next_contact_due(last, customer.tier, policy, calendar)
        current = await uow.interactions.schedule(customer.id)
        announced = current.announced_due_on if current is not None else None
        lapsed = is_overdue(due, calendar.local_date(now)) and announced != due
        if lapsed:
            announced = due
            uow.emit(DomainEvent("customer.contact_overdue", "customer", customer.id, now, {
                "due_on": due, "last_contact_at": last, "tier": customer.tier,
                "working_days": policy.working_days[customer.tier]},
                customer_id=customer.id))
        schedule = Schedule(customer.id, last, due, announced)
        if schedule != current:
            await uow.interactions.save_schedule(schedule)
        return int(lapsed)

    @staticmethod
    async def _readable(uow: UnitOfWork, ctx: RequestContext, customer_id: UUID) -> Customer:
        customer = await uow.customers.get(customer_id, read_scope(ctx.actor))
        if customer is None:
            raise NotFound(entity="customer")
        return customer
