"""Management reports (domain §10) share one shape: a list of figures, each a value with
its unit, the ``n`` it was computed from and, where it estimates something from a sample
(survey answers), its 95% interval. JSON and CSV are two renderings of the same list, so
an export never says something the screen does not."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from app.domain.access.scope import Reach
from app.domain.surveys.scores import (
    ConfidenceInterval,
    Metric,
    Score,
    csat_of_counts,
    nps_of_counts,
    wilson,
)


class Unit(StrEnum):
    COUNT = "count"
    PERCENT = "percent"
    WORKING_HOURS = "working_hours"
    RATIO = "ratio"  # actual ÷ estimated
    POINTS = "points"  # NPS
    SCORE = "score"  # health, integrity (0–100), CES (1–7)
    DAYS = "days"


@dataclass(frozen=True)
class Figure:
    """One number of a report. ``key`` names the group within ``section`` (a state, a
    role, a manager's id); ``n`` is what a rate, median or mean was taken over."""

    section: str
    key: str
    metric: str
    value: float | int | None
    unit: Unit
    n: int | None = None
    interval: ConfidenceInterval | None = None
    flag: str | None = None  # e.g. "shrunk_toward_overall_mean", "low_confidence"


@dataclass(frozen=True)
class Report:
    name: str
    as_of: datetime
    since: date | None
    until: date | None
    department_id: UUID | None
    reach: Reach
    figures: list[Figure] = field(default_factory=list)


def count(section: str, key: str, value: int, metric: str = "count") -> Figure:
    return Figure(section, key, metric, value, Unit.COUNT)


def share(section: str, key: str, metric: str, part: int, n: int, *,
          sample: bool = False) -> Figure:
    """``part`` of ``n`` in percent (None when n is 0). ``sample``: the share estimates a
    wider population (e.g. answers to a survey), so it carries the Wilson 95% interval."""
    if n == 0:
        return Figure(section, key, metric, None, Unit.PERCENT, 0)
    interval = None
    if sample:
        w = wilson(part, n)
        interval = ConfidenceInterval(round(100 * w.low, 1), round(100 * w.high, 1))
    return Figure(section, key, metric, round(100 * part / n, 1), Unit.PERCENT, n, interval)


def spread(section: str, key: str, n: int, median: float | None, p90: float | None,
           unit: Unit) -> list[Figure]:
    """A median and a 90th percentile of ``n`` values (None for none)."""
    def r(v: float | None) -> float | None:
        return None if v is None or n == 0 else round(v, 2)
    return [Figure(section, key, "median", r(median), unit, n),
            Figure(section, key, "p90", r(p90), unit, n)]


def counts(section: str, pairs: Iterable[tuple[str | None, int]],
           missing: str = "none") -> list[Figure]:
    return [count(section, missing if k is None else str(k), v)
            for k, v in sorted(pairs, key=lambda p: (p[0] is None, str(p[0])))]


def survey_figure(section: str, key: str, score: Score) -> Figure:
    """A CSAT or NPS score: its estimate, 95% interval, n, and low-confidence flag."""
    interval = None if score.interval is None else ConfidenceInterval(
        round(score.interval.low, 1), round(score.interval.high, 1))
    return Figure(section, key, score.metric.value,
                  None if score.estimate is None else round(score.estimate, 1),
                  Unit.POINTS if score.metric is Metric.NPS else Unit.PERCENT, score.n,
                  interval, "low_confidence" if score.low_confidence else None)


def handover_outcomes(*, transferred: int, churned: int, churned_so_far: int,
                      satisfaction: dict[str, tuple[int, int, int, int, int]],
                      customers_compared: int, handovers: int,
                      findings: Iterable[tuple[str, int]]) -> list[Figure]:
    """Churn within 90 days of the transfer (over handovers whose 90 days have passed, so
    that a recent transfer does not flatter the rate; ``churned_so_far`` counts every
    transfer), satisfaction before against after over the same customers, and findings per
    handover by checklist item."""
    figures = [share("churn_within_90_days", "all", "rate", churned, transferred),
               count("churn_within_90_days", "all", churned_so_far, "so_far"),
               count("satisfaction_compared", "all", customers_compared, "customers")]
    for side in ("before", "after"):
        c, ok, n, p, d = satisfaction.get(side, (0, 0, 0, 0, 0))
        figures += [survey_figure("satisfaction_" + side, "all", csat_of_counts(ok, c)),
                    survey_figure("satisfaction_" + side, "all", nps_of_counts(p, d, n))]
    for item, found in findings:
        figures += [count("findings", item, found),
                    Figure("findings", item, "per_handover",
                           round(found / handovers, 3) if handovers else None, Unit.RATIO,
                           handovers)]
    return figures


def percentile_of_counts(counts: Iterable[tuple[float, int]], p: float) -> float | None:
    """``percentile_cont(p)`` of the values ``counts`` describes (value, how many times):
    the same figure as over the values themselves, from a database's GROUP BY of a
    small-domain column (integrity 0–100, health in tenths) instead of a sort of them all."""
    ordered = sorted((v, n) for v, n in counts if n > 0)
    total = sum(n for _, n in ordered)
    if total == 0:
        return None
    h = (total - 1) * p
    low = int(h)

    def at(index: int) -> float:
        seen = 0
        for value, n in ordered:
            seen += n
            if index < seen:
                return value
        return ordered[-1][0]
    return at(low) + (h - low) * (at(min(low + 1, total - 1)) - at(low))
