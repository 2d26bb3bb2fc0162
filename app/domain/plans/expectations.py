"""The expectations register (预期管理): what the customer expects, who said it and when,
how it was assessed (realistic or not, agreed, or what was committed instead, carried by
which objective or milestone) and, at review, whether it was met. Gaps are derived, never
typed: expected but not committed, committed but overdue, committed but not met."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from app.domain.common.errors import FieldErrors, NotFound
from app.domain.plans.baseline import check_open
from app.domain.plans.figures import ObjectiveStatus, objective_status
from app.domain.plans.model import (
    COMMITTED,
    Agreement,
    Expectation,
    MilestoneStatus,
    Outcome,
    Plan,
)

MAX_PER_PLAN = 200  # the register is read whole, with the plan


class Gap(StrEnum):
    NOT_COMMITTED = "not_committed"  # expected but not committed (or not yet assessed)
    OVERDUE = "overdue"  # committed, and what carries it is past due and not done
    NOT_MET = "not_met"  # committed, and reviewed as partly or not met


def gaps(expectation: Expectation, plan: Plan, today: date) -> list[Gap]:
    """The gaps of one expectation now, from its assessment, review and what carries it."""
    e = expectation
    if e.agreement not in COMMITTED:
        return [Gap.NOT_COMMITTED]
    found = []
    if e.outcome in (Outcome.PARTLY, Outcome.NOT_MET):
        found.append(Gap.NOT_MET)
    elif e.outcome is None and _carrier_overdue(e, plan, today):
        found.append(Gap.OVERDUE)
    return found


def _carrier_overdue(e: Expectation, plan: Plan, today: date) -> bool:
    milestone = plan.milestone(e.milestone_id) if e.milestone_id else None
    if milestone is not None and milestone.status is not MilestoneStatus.DONE \
            and milestone.planned_date < today:
        return True
    objective = plan.objective(e.objective_id) if e.objective_id else None
    return objective is not None and objective_status(objective, today) \
        is ObjectiveStatus.NOT_ACHIEVED


def gap_summary(plan: Plan, expectations: list[Expectation], today: date) -> dict[str, int]:
    counts = Counter(g for e in expectations for g in gaps(e, plan, today))
    summary = {g.value: counts.get(g, 0) for g in Gap}
    summary["expectations"] = len(expectations)
    summary["with_gaps"] = sum(bool(gaps(e, plan, today)) for e in expectations)
    summary["met"] = sum(e.outcome is Outcome.MET for e in expectations)
    return summary


def check(expectation: Expectation, plan: Plan, live_contacts: frozenset[UUID]) -> None:
    """422 naming each field that does not hold: a reason when not realistic, what was
    committed when something else was, evidence with a review, and links that exist."""
    e = expectation
    errors = FieldErrors()
    if not e.statement.strip():
        errors.add("/statement", "missing")
    if e.contact_id is not None and e.contact_id not in live_contacts:
        errors.add("/contact_id", "contact_unknown")
    if e.realistic is False and not e.unrealistic_reason.strip():
        errors.add("/unrealistic_reason", "missing")
    if e.agreement is Agreement.COMMITTED_INSTEAD and not e.commitment.strip():
        errors.add("/commitment", "missing")
    if e.objective_id is not None and plan.objective(e.objective_id) is None:
        errors.add("/objective_id", "objective_unknown")
    if e.milestone_id is not None and plan.milestone(e.milestone_id) is None:
        errors.add("/milestone_id", "milestone_unknown")
    if e.outcome is not None:
        if e.agreement not in COMMITTED:
            errors.add("/outcome", "review_needs_commitment")
        if not e.evidence.strip():
            errors.add("/evidence", "missing")
    errors.raise_if_any()


def add(plan: Plan, expectations: list[Expectation], new: Expectation,
        live_contacts: frozenset[UUID]) -> list[Expectation]:
    check_open(plan)
    check(new, plan, live_contacts)
    return [*expectations, new]


def edit(plan: Plan, expectations: list[Expectation], expectation_id: UUID,
         changes: dict[str, Any], live_contacts: frozenset[UUID],
         today: date) -> tuple[list[Expectation], Expectation]:
    """A review without a date was made today."""
    check_open(plan)
    current = next((e for e in expectations if e.id == expectation_id), None)
    if current is None:
        raise NotFound(entity="expectation")
    edited = replace(current, **changes)
    if edited.outcome is not None and edited.reviewed_on is None:
        edited.reviewed_on = today
    check(edited, plan, live_contacts)
    return [edited if e.id == expectation_id else e for e in expectations], edited


def opened(before: Expectation | None, after: Expectation, plan: Plan,
           today: date) -> list[Gap]:
    """The gaps ``after`` has that ``before`` did not: what ``expectation.gap_opened``
    announces."""
    had = set(gaps(before, plan, today)) if before is not None else set()
    return [g for g in gaps(after, plan, today) if g not in had]
