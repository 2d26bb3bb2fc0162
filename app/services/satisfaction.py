"""满意度 use cases: satisfaction statistics with honest uncertainty (NPS, CSAT, CES with
their 95% intervals, response rate, low-confidence flags) over time and by segment, with
per-manager comparisons shrunk toward the overall mean; and customer health, whose fall
below the threshold suggests ``at_risk`` and is announced once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from app.domain.access.scope import read_scope
from app.domain.common.errors import NotFound
from app.domain.common.events import DomainEvent
from app.domain.feedback.health import Health, HealthInputs, HealthPolicy, health
from app.domain.feedback.health import normalised_satisfaction as normalised
from app.domain.surveys.scores import (
    GroupTally,
    Metric,
    ResponseRate,
    Score,
    Shrinkage,
    response_rate,
    score,
    shrink,
)
from app.services.policies import HEALTH_POLICY, load_policy, store_policy
from app.services.ports import Clock, RequestContext, ScoreRow, UnitOfWork, UnitOfWorkFactory

RECENT = timedelta(days=90)  # "recent satisfaction" and the breaches health counts
CHECK_BATCH = 200


class Interval(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"


class Segment(StrEnum):
    TIER = "tier"
    DEPARTMENT = "department"
    OWNER = "owner"  # per account manager: shrunk toward the overall mean


PERIOD: dict[Interval, Callable[[datetime], str]] = {
    Interval.MONTH: lambda t: t.strftime("%Y-%m"),
    Interval.QUARTER: lambda t: f"{t.year}-Q{(t.month - 1) // 3 + 1}",
}
KEY: dict[Segment, Callable[[ScoreRow], str]] = {
    Segment.TIER: lambda r: r.tier,
    Segment.DEPARTMENT: lambda r: str(r.department_id),
    Segment.OWNER: lambda r: str(r.owner_id),
}


@dataclass(frozen=True)
class Scores:
    nps: Score
    csat: Score
    ces: Score


@dataclass(frozen=True)
class SegmentScores:
    key: str
    scores: Scores


@dataclass(frozen=True)
class SatisfactionReport:
    overall: Scores
    response_rate: ResponseRate
    by_period: list[tuple[str, Scores]]
    segment: Segment | None
    by_segment: list[SegmentScores]
    shrinkage: dict[Metric, Shrinkage]  # per-manager comparisons only


def _scores(rows: Iterable[ScoreRow]) -> Scores:
    values: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        values[r.kind].append(r.value)
    return Scores(*(score(m, values[m.value]) for m in (Metric.NPS, Metric.CSAT, Metric.CES)))


class SatisfactionService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def report(self, ctx: RequestContext, since: datetime | None, until: datetime | None,
                     department_id: UUID | None, template_id: UUID | None,
                     interval: Interval, segment: Segment | None) -> SatisfactionReport:
        """By survey (``template_id``), period and segment."""
        scope = read_scope(ctx.actor)
        async with self._uow(ctx, write=False) as uow:
            rows = await uow.surveys.scores(scope, since, until, department_id, template_id)
            invited, answered = await uow.surveys.invitation_counts(
                scope, since, until, department_id, template_id)
        periods: dict[str, list[ScoreRow]] = defaultdict(list)
        for r in rows:
            periods[PERIOD[interval](r.submitted_at)].append(r)
        groups: dict[str, list[ScoreRow]] = defaultdict(list)
        if segment is not None:
            for r in rows:
                groups[KEY[segment](r)].append(r)
        shrinkage: dict[Metric, Shrinkage] = {}
        if segment is Segment.OWNER:
            for metric in Metric:
                shrinkage[metric] = shrink(metric, [
                    GroupTally.from_answers(key, metric,
                                            [r.value for r in g if r.kind == metric.value])
                    for key, g in sorted(groups.items())])
        return SatisfactionReport(
            _scores(rows), response_rate(answered, invited),
            [(p, _scores(g)) for p, g in sorted(periods.items())], segment,
            [SegmentScores(k, _scores(g)) for k, g in sorted(groups.items())], shrinkage)

    # health --------------------------------------------------------------------------

    async def health(self, ctx: RequestContext, customer_id: UUID) -> Health:
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

    async def health_policy(self, ctx: RequestContext) -> tuple[HealthPolicy, int]:
        async with self._uow(ctx, write=False) as uow:
            return await load_policy(uow, HEALTH_POLICY)

    async def set_health_policy(self, ctx: RequestContext, policy: HealthPolicy,
                                expected_version: int) -> int:
        async with self._uow(ctx) as uow:
            version = await store_policy(uow, HEALTH_POLICY, policy, expected_version,
                                         str(ctx.actor.id), self._clock.now())
            await uow.commit()
            return version

    async def _health(self, uow: UnitOfWork, customer_id: UUID,
                      policy: HealthPolicy) -> Health:
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
    scores = _scores(rows)
    return normalised(csat=scores.csat, nps=scores.nps)


