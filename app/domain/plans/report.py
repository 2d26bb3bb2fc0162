"""Plan performance (绩效评估) across plans: per plan, objectives achieved, milestones on
time, budget variance, expectations met and gaps open; and the totals with their rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from app.domain.plans.expectations import gap_summary
from app.domain.plans.figures import CENT, Performance, Variance, performance, variance
from app.domain.plans.model import Plan


@dataclass(frozen=True)
class PlanPerformance:
    plan: Plan
    figures: Performance
    expectations: int
    expectations_met: int
    gaps_open: int


@dataclass(frozen=True)
class Totals:
    plans: int
    objectives: int
    objectives_achieved: int
    objectives_achieved_pct: Decimal | None
    milestones_judged: int  # done, or past their date
    milestones_on_time: int
    milestones_on_time_pct: Decimal | None
    expectations: int
    expectations_met: int
    gaps_open: int
    budget: dict[str, Variance]


def _pct(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) * 100 / whole).quantize(CENT, rounding=ROUND_HALF_UP)


def of_plan(plan: Plan, today: date) -> PlanPerformance:
    gaps = gap_summary(plan, plan.expectations, today)
    return PlanPerformance(plan, performance(plan.objectives, plan.milestones,
                                             plan.budget_lines, today),
                           gaps["expectations"], gaps["met"], gaps["with_gaps"])


def totals(rows: list[PlanPerformance]) -> Totals:
    objectives = sum(r.figures.objectives for r in rows)
    achieved = sum(r.figures.objectives_achieved for r in rows)
    on_time = sum(r.figures.milestones_on_time for r in rows)
    judged = on_time + sum(r.figures.milestones_late for r in rows)
    planned: dict[str, Decimal] = {}
    actual: dict[str, Decimal] = {}
    for r in rows:
        for currency, v in r.figures.budget.items():
            planned[currency] = planned.get(currency, Decimal("0")) + v.planned
            actual[currency] = actual.get(currency, Decimal("0")) + v.actual
    return Totals(
        plans=len(rows), objectives=objectives, objectives_achieved=achieved,
        objectives_achieved_pct=_pct(achieved, objectives), milestones_judged=judged,
        milestones_on_time=on_time, milestones_on_time_pct=_pct(on_time, judged),
        expectations=sum(r.expectations for r in rows),
        expectations_met=sum(r.expectations_met for r in rows),
        gaps_open=sum(r.gaps_open for r in rows),
        budget={c: variance(planned[c], actual[c]) for c in sorted(planned)})
