"""Progress reports (进展报告): drafted, then published and from then on immutable; a
published report may be shared with the customer through a link that is unguessable
(256 random bits, only its hash stored, as for survey invitations), expiring, revocable and
read-only. Milestone status is computed from the plan's milestones, never typed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from app.domain.common.errors import DomainError, ErrorKind, FieldErrors, TransitionNotAllowed
from app.domain.common.workflow import in_state, leaving
from app.domain.plans.baseline import PlanNotActive
from app.domain.plans.figures import milestone_on_time, milestone_overdue
from app.domain.plans.model import Plan, PlanState
from app.domain.surveys.model import new_token, token_hash

MAX_SHARE_DAYS = 90
DEFAULT_SHARE_DAYS = 14
MAX_COMMENT = 2000


class ReportState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


@dataclass(frozen=True)
class ReportAction:
    name: str
    sources: frozenset[ReportState]
    target: ReportState
    parties: frozenset[str] = frozenset({"plan_editor"})
    guards: tuple[Any, ...] = ()


# The report's life as data: edits happen in draft, publish freezes it.
ACTIONS = {a.name: a for a in (
    ReportAction("publish", frozenset({ReportState.DRAFT}), ReportState.PUBLISHED),
    ReportAction("share", frozenset({ReportState.PUBLISHED}), ReportState.PUBLISHED),
    ReportAction("revoke_share", frozenset({ReportState.PUBLISHED}), ReportState.PUBLISHED),
)}


class ReportPublished(DomainError):
    code = "plan_report_published"
    kind = ErrorKind.CONFLICT


class ReportLinkUnknown(DomainError):
    """A wrong, expired or revoked link: the same answer for each, so a link says nothing
    about whether a report exists."""

    code = "plan_report_link_unknown"
    kind = ErrorKind.NOT_FOUND


@dataclass
class ProgressReport:
    id: UUID
    plan_id: UUID
    customer_id: UUID
    period_start: date
    period_end: date
    completed_work: str
    issues: str
    next_steps: str
    internal_notes: str  # never shown to the customer
    state: ReportState
    version: int
    created_by: UUID
    created_at: datetime
    updated_at: datetime
    milestone_status: list[dict[str, Any]] | None = None  # frozen when published
    published_at: datetime | None = None
    published_by: UUID | None = None
    share_token_hash: str | None = None
    share_expires_at: datetime | None = None
    share_revoked_at: datetime | None = None
    shared_by: UUID | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str = ""  # the name the customer gave

    def snapshot(self) -> dict[str, Any]:
        return {"state": self.state, "period_start": self.period_start.isoformat(),
                "period_end": self.period_end.isoformat(),
                "shared": self.share_token_hash is not None,
                "share_expires_at": self.share_expires_at,
                "share_revoked_at": self.share_revoked_at}


def milestone_status(plan: Plan, today: date) -> list[dict[str, Any]]:
    """Each milestone as the customer should see it: planned and actual dates, status, on
    time or overdue, derived from the plan."""
    return [{"title": m.title, "planned_date": m.planned_date.isoformat(),
             "actual_date": m.actual_date.isoformat() if m.actual_date else None,
             "status": m.status.value, "on_time": milestone_on_time(m, today),
             "overdue": milestone_overdue(m, today)} for m in plan.milestones]


def check_period(start: date, end: date) -> None:
    errors = FieldErrors()
    if end < start:
        errors.add("/period_end", "before_start")
    errors.raise_if_any()


def check_reportable(plan: Plan) -> None:
    """Progress is reported on a plan that runs or ran: not on a draft or a cancelled one."""
    if plan.state not in (PlanState.ACTIVE, PlanState.COMPLETED):
        raise PlanNotActive(state=plan.state)


def edit(report: ProgressReport, changes: dict[str, Any]) -> ProgressReport:
    if report.state is ReportState.PUBLISHED:
        raise ReportPublished(published_at=report.published_at)
    edited = replace(report, **changes)
    check_period(edited.period_start, edited.period_end)
    return edited


def allowed_actions(report: ProgressReport) -> list[str]:
    names = in_state(ACTIONS, report.state)
    if report.share_token_hash is None or report.share_revoked_at is not None:
        names = [n for n in names if n != "revoke_share"]
    return names


def publish(report: ProgressReport, plan: Plan, by: UUID, now: datetime,
            today: date) -> ProgressReport:
    leaving(ACTIONS, "publish", report.state)
    return replace(report, state=ReportState.PUBLISHED, published_at=now, published_by=by,
                   milestone_status=milestone_status(plan, today))


def share(report: ProgressReport, by: UUID, now: datetime, days: int
          ) -> tuple[ProgressReport, str]:
    """A new link (any earlier one stops working) and its token, shown once."""
    leaving(ACTIONS, "share", report.state)
    errors = FieldErrors()
    if not 1 <= days <= MAX_SHARE_DAYS:
        errors.add("/expires_in_days", "out_of_range")
    errors.raise_if_any()
    token, hashed = new_token()
    return replace(report, share_token_hash=hashed, share_expires_at=now + timedelta(days=days),
                   share_revoked_at=None, shared_by=by), token


def revoke_share(report: ProgressReport, now: datetime) -> ProgressReport:
    allowed = allowed_actions(report)
    if "revoke_share" not in allowed:
        raise TransitionNotAllowed(action="revoke_share", state=report.state,
                                   allowed=", ".join(allowed) or "none")
    return replace(report, share_revoked_at=now)


def hash_of(token: str) -> str:
    return token_hash(token)


def check_link(report: ProgressReport | None, now: datetime) -> ProgressReport:
    if report is None or report.state is not ReportState.PUBLISHED \
            or report.share_revoked_at is not None or report.share_expires_at is None \
            or report.share_expires_at <= now:
        raise ReportLinkUnknown()
    return report


def check_comment(comment: str, name: str) -> str:
    errors = FieldErrors()
    text = comment.strip()
    if not text:
        errors.add("/comment", "missing")
    elif len(text) > MAX_COMMENT:
        errors.add("/comment", "string_too_long", max_length=MAX_COMMENT)
    if len(name) > 100:
        errors.add("/name", "string_too_long", max_length=100)
    errors.raise_if_any()
    return text
