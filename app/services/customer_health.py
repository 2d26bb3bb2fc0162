"""Customer health use cases (domain §6): a customer's score 0–100 with the factors behind
it, the health policy, and the scheduled check whose fall below the threshold suggests
``at_risk`` and is announced once."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from app.domain.access.scope import read_scope
from app.domain.common.errors import NotFound
from app.domain.common.events import DomainEvent
from app.domain.customers.health import CustomerHealth, HealthInputs, HealthPolicy, health
from app.domain.customers.health import normalised_satisfaction as normalised
from app.services.policies import HEALTH_POLICY, PolicySetting, load_policy
from app.services.ports import Clock, RequestContext
from app.services.ports.surveys import ScoreRow
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.satisfaction import scores_of

RECENT = timedelta(days=90)  # "recent satisfaction" and the breaches health counts
CHECK_BATCH = 200


class CustomerHealthService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self.policy_setting = PolicySetting(uow, clock, HEALTH_POLICY)

    async def health(self, ctx: RequestContext, customer_id: UUID) -> CustomerHealth:
        async with self._uow(ctx, write=False) as uow:
            customer = await uow.customers.get(customer_id, read_scope(ctx.actor))
            if customer is None:
                raise NotFound(entity="customer")
            policy, _ = await load_policy(uow, HEALTH_POLICY)
            return await self._health(uow, customer_id, policy)

    async def check_health(self, ctx: RequestContext) -> int:
        """The scheduler hook: recompute every live customer's health and announce
        ``customer.health_below_threshold`` when one falls below the threshold (once per
        fall; ``customer.health_recovered`` when it comes back). Returns the falls."""
        now = self._clock.now()
        falls, after = 0, None
        while True:
            async with self._uow(ctx) as uow:
                policy, _ = await load_policy(uow, HEALTH_POLICY)
                batch = await uow.feedback.customers_to_check(after, CHECK_BATCH)
                for customer_id in batch:
                    result = await self._health(uow, customer_id, policy)
                    below = result.suggest_at_risk
                    was = await uow.feedback.last_health(customer_id)
                    await uow.feedback.store_health(customer_id, result.score, below, now)
                    if below != bool(was):
                        event = "health_below_threshold" if below else "health_recovered"
                        falls += below
                        uow.emit(DomainEvent(
                            f"customer.{event}", "customer", customer_id, now,
                            {"score": result.score, "threshold": result.threshold,
                             "suggested_stage": "at_risk" if below else None,
                             "factors": {f.name: f.points for f in result.factors}},
                            customer_id=customer_id))
                await uow.commit()
            if len(batch) < CHECK_BATCH:
                return falls
            after = batch[-1]


    async def _health(self, uow: UnitOfWork, customer_id: UUID,
                      policy: HealthPolicy) -> CustomerHealth:
        now = self._clock.now()
        rows = await uow.surveys.customer_scores(customer_id, now - 2 * RECENT)
        recent = [r for r in rows if r.submitted_at >= now - RECENT]
        previous = [r for r in rows if r.submitted_at < now - RECENT]
        signals = await uow.feedback.signals(customer_id, now - RECENT)
        return health(HealthInputs(
            satisfaction=_normalised(recent), previous_satisfaction=_normalised(previous),
            open_complaints=signals.open_complaints, sla_breaches=signals.sla_breaches,
            days_since_last_contact=None if signals.last_contact is None
            else max(0, (now - signals.last_contact).days),
            open_high_risks=signals.open_high_risks), policy)


def _normalised(rows: list[ScoreRow]) -> float | None:
    scores = scores_of(rows)
    return normalised(csat=scores.csat, nps=scores.nps)
