"""Direct edits of a plan and of its parts, each asking the baseline first: on an active
plan the promised content (scope, milestone dates, planned budget) is refused with
``plan_baseline_frozen``, progress is recorded freely; closed plans change no more."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal
from uuid import UUID

from app.domain.common.errors import FieldErrors, NotFound
from app.domain.plans.baseline import check_direct_edit, check_open
from app.domain.plans.model import (
    BudgetLine,
    DeliverableKind,
    Milestone,
    MilestoneStatus,
    Objective,
    Plan,
)

# Plan fields a person sets directly, and which of them the baseline holds.
PLAN_FIELDS = frozenset({"title", "scope_statement", "owner_id", "team", "constraints",
                         "planned_start", "planned_end"})
BASELINE_PLAN_FIELDS = frozenset({"scope_statement"})
BASELINE_MILESTONE_FIELDS = frozenset({"planned_date"})
BASELINE_BUDGET_FIELDS = frozenset({"planned", "category", "currency"})


def _check_dates(errors: FieldErrors, start: date | None, end: date | None,
                 pointer: str = "/planned_end") -> None:
    if start is not None and end is not None and end < start:
        errors.add(pointer, "before_start")


def _baseline_touched(current: object, changes: dict[str, Any], frozen: frozenset[str]
                      ) -> str | None:
    return next((name for name in sorted(changes)
                 if name in frozen and getattr(current, name) != changes[name]), None)


def edit_plan(plan: Plan, changes: dict[str, Any]) -> Plan:
    check_open(plan)
    touched = _baseline_touched(plan, changes, BASELINE_PLAN_FIELDS)
    if touched:
        check_direct_edit(plan, touched)
    edited = replace(plan, **changes)
    errors = FieldErrors()
    _check_dates(errors, edited.planned_start, edited.planned_end)
    if "title" in changes and not edited.title.strip():
        errors.add("/title", "missing")
    errors.raise_if_any()
    return edited


def add_milestone(plan: Plan, milestone: Milestone) -> Plan:
    check_direct_edit(plan, "milestones")
    _check_deliverables(milestone)
    return replace(plan, milestones=[*plan.milestones, milestone])


def _milestone(plan: Plan, milestone_id: UUID) -> Milestone:
    found = plan.milestone(milestone_id)
    if found is None:
        raise NotFound(entity="milestone")
    return found


def edit_milestone(plan: Plan, milestone_id: UUID, changes: dict[str, Any],
                   today: date) -> Plan:
    """Marking a milestone done without an actual date records it done today."""
    check_open(plan)
    current = _milestone(plan, milestone_id)
    touched = _baseline_touched(current, changes, BASELINE_MILESTONE_FIELDS)
    if touched:
        check_direct_edit(plan, "milestone." + touched)
    edited = replace(current, **changes)
    if edited.status is MilestoneStatus.DONE and edited.actual_date is None:
        edited.actual_date = today
    if edited.status is not MilestoneStatus.DONE and "status" in changes:
        edited.actual_date = changes.get("actual_date")
    _check_deliverables(edited)
    return replace(plan, milestones=[edited if m.id == milestone_id else m
                                     for m in plan.milestones])


def _check_deliverables(milestone: Milestone) -> None:
    """A training's details belong to trainings only."""
    errors = FieldErrors()
    for i, d in enumerate(milestone.deliverables):
        if d.training is not None and d.kind is not DeliverableKind.TRAINING:
            errors.add(f"/deliverables/{i}/training", "training_only")
    errors.raise_if_any()


def add_budget_line(plan: Plan, line: BudgetLine) -> Plan:
    check_direct_edit(plan, "budget_lines")
    return replace(plan, budget_lines=[*plan.budget_lines, line])


def edit_budget_line(plan: Plan, line_id: UUID, changes: dict[str, Any]) -> Plan:
    check_open(plan)
    current = plan.budget_line(line_id)
    if current is None:
        raise NotFound(entity="budget_line")
    touched = _baseline_touched(current, changes, BASELINE_BUDGET_FIELDS)
    if touched:
        check_direct_edit(plan, "budget." + touched)
    edited = replace(current, **changes)
    return replace(plan, budget_lines=[edited if b.id == line_id else b
                                       for b in plan.budget_lines])


def add_objective(plan: Plan, objective: Objective) -> Plan:
    """Objectives are what the plan aims at, measured as it goes; not part of the
    baseline (domain §5 names scope, milestone dates and budget)."""
    check_open(plan)
    return replace(plan, objectives=[*plan.objectives, objective])


def edit_objective(plan: Plan, objective_id: UUID, changes: dict[str, Any],
                   today: date) -> Plan:
    """An actual recorded without a date was measured today."""
    check_open(plan)
    current = plan.objective(objective_id)
    if current is None:
        raise NotFound(entity="objective")
    edited = replace(current, **changes)
    if edited.actual is None:
        edited.measured_at = None
    elif edited.measured_at is None:
        edited.measured_at = today
    return replace(plan, objectives=[edited if o.id == objective_id else o
                                     for o in plan.objectives])


PlanPart = Literal["objective", "milestone", "budget_line"]


@dataclass(frozen=True)
class PartEdits:
    """How one kind of a plan's parts is added and edited; ``edit`` gets the business
    day for the parts whose edits are dated."""

    add: Callable[[Plan, Any], Plan]
    edit: Callable[[Plan, UUID, dict[str, Any], date], Plan]


# The parts a person adds and edits one at a time; their events are
# ``plan.<part>_added`` and ``plan.<part>_updated``.
PARTS: dict[PlanPart, PartEdits] = {
    "objective": PartEdits(add_objective, edit_objective),
    "milestone": PartEdits(add_milestone, edit_milestone),
    "budget_line": PartEdits(add_budget_line,
                             lambda plan, line_id, changes, _: edit_budget_line(
                                 plan, line_id, changes)),
}
