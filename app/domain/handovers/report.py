"""Handover reports (domain §4): one handover's durations, and the figures over many —
count, states, median days to transfer, findings per handover and overdue follow-ups —
overall, by department and by month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.domain.handovers.model import OPEN_STATES, Handover, HandoverState


@dataclass(frozen=True)
class HandoverTally:
    """What the report says of a group of handovers (all, one department, one month),
    counted by the database: handovers per state, how many were transferred and their
    median days from creation to transfer, their findings, follow-ups overdue today."""

    by_state: dict[str, int]
    transferred: int
    median_days_to_transfer: float | None
    findings: int
    overdue_follow_ups: int


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


def figures(t: HandoverTally) -> dict[str, Any]:
    count = sum(t.by_state.values())
    return {
        "count": count, "by_state": dict(sorted(t.by_state.items())),
        "transferred": t.transferred,
        "median_days_to_transfer": None if t.median_days_to_transfer is None
        else round(t.median_days_to_transfer, 2),
        "findings_per_handover": round(t.findings / count, 2) if count else None,
        "overdue_follow_ups": t.overdue_follow_ups}


def summary(overall: HandoverTally, by_department: dict[str, HandoverTally],
            by_month: dict[str, HandoverTally]) -> dict[str, Any]:
    """Overall, by department (id) and by month (YYYY-MM of the creation, UTC)."""
    return {"overall": figures(overall),
            "by_department": [{"department_id": k, **figures(v)}
                              for k, v in sorted(by_department.items())],
            "by_month": [{"month": k, **figures(v)} for k, v in sorted(by_month.items())]}
