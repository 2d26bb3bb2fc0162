"""Ports of the management reports: aggregates computed by the database (counts,
percentiles, rates), never rows to count in Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from app.domain.access.scope import RecordScope
from app.domain.handovers.report import HandoverTally
from app.domain.plans.access import PlanReach
from app.domain.reports.working_time import WorkingDay


@dataclass(frozen=True)
class ReportFilter:
    """Whose records (``scope``: never more than the caller may read), which department,
    and the period the report's defining moment falls in (``since`` ≤ t < ``until``)."""

    scope: RecordScope
    since: datetime | None
    until: datetime | None
    department_id: UUID | None


@dataclass(frozen=True)
class Quantiles:
    key: str
    n: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class ChangeRequestFigures:
    counts: dict[str, list[tuple[str | None, int]]]  # dimension → (value, count)
    step_hours: list[Quantiles]  # per step role, and "end_to_end"
    rounds: dict[str, int]  # decided, rejected, returned
    implemented: int  # with a requested date
    on_time: int
    cost_ratio: Quantiles
    schedule_ratio: Quantiles
    overdue_steps: list[tuple[str, int]]  # per role, now


@dataclass(frozen=True)
class CustomerFigures:
    counts: dict[str, list[tuple[str | None, int]]]  # tier, stage, department (live, now)
    integrity_bands: list[tuple[str, int]]
    integrity: Quantiles
    health_bands: list[tuple[str, int]]
    health: Quantiles  # in points (0–100)
    below_threshold: int
    new: list[tuple[str, int]]  # month → customers created
    churned: list[tuple[str, str | None, int]]  # month, reason → customers churned


@dataclass(frozen=True)
class ManagerFigures:
    """Per manager (account manager id as text)."""

    customers: list[tuple[str, str, int]]  # manager, tier, live customers
    health: list[tuple[str, int, float | None, int]]  # manager, n, mean points, below
    feedback: list[tuple[str, int, int, int, int]]  # manager, ack measured, met, resolve …
    changes: list[tuple[str, int, int, int, int]]  # manager, count, implemented, rejected,
    #                                                 cancelled
    csat: list[tuple[str, int, int]]  # manager, answers, satisfied (4–5)
    nps: list[tuple[str, int, int, int]]  # manager, answers, promoters, detractors
    handovers: list[tuple[str, int, int]]  # manager, in, out


@dataclass(frozen=True)
class ManagerPlanFigures:
    """Per manager (id as text): the follow-through figures beside ``ManagerFigures``."""

    contacts: list[tuple[str, int, int]]  # customer owner, customers scheduled, overdue now
    plans: list[tuple[str, str, int]]  # plan owner, state, plans now
    milestones: list[tuple[str, int, int, int]]  # plan owner, due in the period, judged,
    #                                               on time
    objectives: list[tuple[str, int, int]]  # plan owner, objectives, achieved
    budget: list[tuple[str, str, int, Decimal, Decimal]]  # plan owner, currency, plans,
    #                                                        planned, actual


@dataclass(frozen=True)
class RiskFigures:
    open_by_level: list[tuple[int, int]]  # level value, open risks (now)
    open_by_owner: list[tuple[str, int]]
    heat: list[tuple[int, int, int]]  # likelihood, impact, open risks
    reviews_overdue: int
    linked: dict[str, int]  # change_request, handover, plan → open risks linked
    opened: list[tuple[str, int]]  # month → risks opened in the period
    closed: list[tuple[str, int]]  # month → risks closed in the period


@dataclass(frozen=True)
class HandoverOutcomes:
    transferred: int  # in the period, their 90-day window closed
    churned: int  # of those, churned within 90 days of the transfer
    churned_so_far: int  # of every transferred one, churned within 90 days so far
    # side ("before" / "after") → (csat answers, satisfied, nps answers, promoters,
    # detractors), over the customers with answers on both sides
    satisfaction: dict[str, tuple[int, int, int, int, int]]
    customers_compared: int
    handovers: int  # created in the period
    findings: list[tuple[str, int]]  # checklist item → findings


@dataclass(frozen=True)
class HandoverSummary:
    overall: HandoverTally
    by_department: dict[str, HandoverTally]  # department id →
    by_month: dict[str, HandoverTally]  # YYYY-MM (UTC) of the creation →


class ReportRepository(Protocol):
    async def change_request_span(self, f: ReportFilter) -> tuple[datetime | None,
                                                                   datetime | None]:
        """The earliest and latest instant the change-request figures measure from or to,
        but for the steps' decisions, which are never later than now: the working-day
        table must cover them and now."""
        ...

    async def change_requests(self, f: ReportFilter, days: list[WorkingDay],
                              now: datetime) -> ChangeRequestFigures: ...

    async def customers(self, f: ReportFilter) -> CustomerFigures:
        """Live customers now (counts, integrity, health); new and churned in the period."""
        ...

    async def account_managers(self, f: ReportFilter, now: datetime) -> ManagerFigures: ...

    async def manager_plans(self, f: ReportFilter, reach: PlanReach,
                            today: date) -> ManagerPlanFigures:
        """Per manager: live customers whose next contact (``contact_schedules``) is past
        due on ``today`` (the local date), plans owned now by state, and, of active and
        completed plans within ``reach``: milestones due in the period with how many were
        done on time, and the objectives and budget lines of the plans whose planned window
        meets the period (as ``/reports/plans`` selects them): how many objectives are
        achieved, the budget planned and spent per currency."""
        ...

    async def risks(self, f: ReportFilter, today: date) -> RiskFigures: ...

    async def handover_summary(self, f: ReportFilter, today: date) -> HandoverSummary:
        """Handovers created in the period, overall, by department and by month of their
        creation; follow-ups overdue as of the local day ``today``."""
        ...

    async def handover_span(self, f: ReportFilter) -> datetime | None:
        """The earliest transfer of the handovers created in the period."""
        ...

    async def handover_outcomes(self, f: ReportFilter, days: list[WorkingDay], today: int,
                                window_days: int) -> HandoverOutcomes:
        """Handovers created in the period: churn within ``window_days`` (local calendar
        days, the transfer's day being day 0) of the transfer, satisfaction as many days
        before against after, findings by checklist item. ``today``: the local day number
        now; ``days`` covers every transfer up to today."""
        ...
