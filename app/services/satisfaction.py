"""满意度 use cases: satisfaction statistics with honest uncertainty (NPS, CSAT, CES with
their 95% intervals, response rate, low-confidence flags) over time and by segment, with
per-manager comparisons shrunk toward the overall mean."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from app.domain.access.scope import read_scope
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
from app.services.ports import RequestContext
from app.services.ports.surveys import ScoreRow
from app.services.ports.unit_of_work import UnitOfWorkFactory


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


def scores_of(rows: Iterable[ScoreRow]) -> Scores:
    """NPS, CSAT and CES of the scored answers in ``rows``."""
    values: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        values[r.kind].append(r.value)
    return Scores(*(score(m, values[m.value]) for m in (Metric.NPS, Metric.CSAT, Metric.CES)))


class SatisfactionService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

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
            scores_of(rows), response_rate(answered, invited),
            [(p, scores_of(g)) for p, g in sorted(periods.items())], segment,
            [SegmentScores(k, scores_of(g)) for k, g in sorted(groups.items())], shrinkage)
