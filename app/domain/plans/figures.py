"""Derived figures of a plan (绩效评估): whether an objective is achieved, whether a
milestone is on time, budget variance. Computed from what was recorded, never typed, so
a figure cannot disagree with the facts it comes from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from app.domain.plans.model import BudgetLine, Milestone, MilestoneStatus, Objective

CENT = Decimal("0.01")


class ObjectiveStatus(StrEnum):
    ACHIEVED = "achieved"
    NOT_ACHIEVED = "not_achieved"  # measured short of the target when due, or never measured
    OPEN = "open"  # not due yet and not achieved


def meets_target(objective: Objective) -> bool | None:
    """Whether the measured actual reaches the target; None before any measurement. A
    target below the baseline means lower is better."""
    if objective.actual is None:
        return None
    lower_is_better = objective.baseline is not None and objective.target < objective.baseline
    if lower_is_better:
        return objective.actual <= objective.target
    return objective.actual >= objective.target


def objective_status(objective: Objective, today: date) -> ObjectiveStatus:
    if meets_target(objective):
        return ObjectiveStatus.ACHIEVED
    if objective.due_date is not None and objective.due_date < today:
        return ObjectiveStatus.NOT_ACHIEVED
    return ObjectiveStatus.OPEN


def milestone_on_time(milestone: Milestone, today: date) -> bool | None:
    """Done by its planned date: True; done later, or not done past it: False; not done
    and not due yet: None (nothing to judge)."""
    if milestone.status is MilestoneStatus.DONE:
        done = milestone.actual_date or today
        return done <= milestone.planned_date
    if milestone.planned_date < today:
        return False
    return None


def milestone_overdue(milestone: Milestone, today: date) -> bool:
    return milestone.status is not MilestoneStatus.DONE and milestone.planned_date < today


@dataclass(frozen=True)
class Variance:
    """actual − planned, and that as a percentage of planned (None when nothing was
    planned: a percentage of zero means nothing)."""

    planned: Decimal
    actual: Decimal
    variance: Decimal
    variance_pct: Decimal | None


def variance(planned: Decimal, actual: Decimal) -> Variance:
    difference = actual - planned
    pct = None if planned == 0 else (difference * 100 / planned).quantize(
        CENT, rounding=ROUND_HALF_UP)
    return Variance(planned, actual, difference, pct)


def line_variance(line: BudgetLine) -> Variance:
    return variance(line.planned, line.actual)


def budget_totals(lines: Iterable[BudgetLine]) -> dict[str, Variance]:
    """Variance in total, per currency (amounts in different currencies never add)."""
    planned: dict[str, Decimal] = {}
    actual: dict[str, Decimal] = {}
    for line in lines:
        planned[line.currency] = planned.get(line.currency, Decimal("0")) + line.planned
        actual[line.currency] = actual.get(line.currency, Decimal("0")) + line.actual
    return {c: variance(planned[c], actual[c]) for c in sorted(planned)}


@dataclass(frozen=True)
class Performance:
    """One plan's figures for the performance report and the plan's own page."""

    objectives: int
    objectives_achieved: int
    objectives_not_achieved: int
    milestones: int
    milestones_done: int
    milestones_on_time: int
    milestones_late: int  # done late, or overdue
    budget: dict[str, Variance]


def performance(objectives: list[Objective], milestones: list[Milestone],
                lines: list[BudgetLine], today: date) -> Performance:
    statuses = [objective_status(o, today) for o in objectives]
    timing = [milestone_on_time(m, today) for m in milestones]
    return Performance(
        objectives=len(objectives),
        objectives_achieved=statuses.count(ObjectiveStatus.ACHIEVED),
        objectives_not_achieved=statuses.count(ObjectiveStatus.NOT_ACHIEVED),
        milestones=len(milestones),
        milestones_done=sum(m.status is MilestoneStatus.DONE for m in milestones),
        milestones_on_time=sum(t is True for t in timing),
        milestones_late=sum(t is False for t in timing),
        budget=budget_totals(lines))
