"""Handover reports (domain §4): one handover's durations, and the figures over many —
count, states, median days to transfer, findings per handover and overdue follow-ups —
overall, by department and by month."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from app.domain.handovers.model import OPEN_STATES, Handover, HandoverState


class ReportFact(Protocol):
    """What the report reads of one handover."""

    @property
    def department_id(self) -> UUID: ...
    @property
    def state(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def transferred_at(self) -> datetime | None: ...
    @property
    def follow_up_due(self) -> date | None: ...
    @property
    def findings(self) -> int: ...


def follow_up_overdue(state: str, follow_up_due: date | None, today: date) -> bool:
    """Transferred, and its follow-up's (local) day has passed without one."""
    return state == HandoverState.TRANSFERRED and follow_up_due is not None \
        and follow_up_due < today


def transfer_overdue(state: str, planned_date: date | None, today: date) -> bool:
    """Still open after the (local) day its transfer was planned for. The plan is only
    that: the follow-up falls due counting from the real transfer."""
    return state in OPEN_STATES and planned_date is not None and planned_date < today


def durations(h: Handover) -> dict[str, float]:
    if h.transferred_at is None:
        return {}
    return {"created_to_transferred_days":
            round((h.transferred_at - h.created_at).total_seconds() / 86400, 2)}


def figures(group: Sequence[ReportFact], today: date) -> dict[str, Any]:
    done = [(f.transferred_at - f.created_at).total_seconds() / 86400
            for f in group if f.transferred_at is not None]
    states: dict[str, int] = defaultdict(int)
    for f in group:
        states[f.state] += 1
    return {
        "count": len(group), "by_state": dict(sorted(states.items())),
        "transferred": len(done),
        "median_days_to_transfer": round(statistics.median(done), 2) if done else None,
        "findings_per_handover": round(sum(f.findings for f in group) / len(group), 2)
        if group else None,
        "overdue_follow_ups": sum(1 for f in group
                                  if follow_up_overdue(f.state, f.follow_up_due, today))}


def summary(facts: Sequence[ReportFact], today: date) -> dict[str, Any]:
    by_department: dict[str, list[ReportFact]] = defaultdict(list)
    by_month: dict[str, list[ReportFact]] = defaultdict(list)
    for f in facts:
        by_department[str(f.department_id)].append(f)
        by_month[f.created_at.strftime("%Y-%m")].append(f)
    return {"overall": figures(facts, today),
            "by_department": [{"department_id": k, **figures(v, today)}
                              for k, v in sorted(by_department.items())],
            "by_month": [{"month": k, **figures(v, today)} for k, v in sorted(by_month.items())]}
