"""报表 · 数据分析 use cases (domain §10): each report reads aggregates within the caller's
record scope (never a record they may not read), over the period and department asked,
and returns the shared figure list (``app.domain.reports.figures``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

from app.domain.access.scope import read_scope
from app.domain.reports.figures import (
    Figure,
    Report,
    Unit,
    count,
    counts,
    share,
    spread,
)
from app.domain.reports.working_time import span, working_days
from app.services.business_calendar import load_calendar
from app.services.ports import Clock, RequestContext
from app.services.ports.reports import ChangeRequestFigures, ReportFilter
from app.services.ports.unit_of_work import UnitOfWorkFactory


def _day(instant: datetime | None) -> date | None:
    return None if instant is None else instant.astimezone(UTC).date()


class ReportService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def _report(self, name: str, f: ReportFilter, now: datetime,
                figures: list[Figure]) -> Report:
        return Report(name, now, _day(f.since), _day(f.until), f.department_id, f.scope.reach,
                      figures)

    async def change_requests(self, ctx: RequestContext, since: datetime | None,
                              until: datetime | None, department_id: UUID | None) -> Report:
        """Changes created in the period: counts, approval lead times in working hours,
        rejection and return rates, on-time implementation, estimate accuracy, emergency
        share, and the steps overdue now."""
        now = self._clock.now()
        f = ReportFilter(read_scope(ctx.actor), since, until, department_id)
        async with self._uow(ctx, write=False) as uow:
            calendar = await load_calendar(uow)
            days = span(*await uow.reports.change_request_span(f), now)
            assert days is not None
            table = working_days(calendar, *days)
            found = await uow.reports.change_requests(f, table, now)
        return self._report("change_requests", f, now, change_request_figures(found))


def change_request_figures(found: ChangeRequestFigures) -> list[Figure]:
    total = sum(n for _, n in found.counts["state"])
    emergency = sum(n for k, n in found.counts["type"] if k == "emergency")
    figures = [count("total", "all", total)]
    for dim in ("state", "type", "category"):
        figures += counts(f"by_{dim}", found.counts[dim])
    figures += counts("by_risk_level", found.counts["risk_level"], missing="unassessed")
    figures.append(share("emergency", "all", "share", emergency, total))
    for q in found.step_hours:
        figures += spread("approval_lead_time", q.key, q.n, q.median, q.p90,
                          Unit.WORKING_HOURS)
    decided = found.rounds["decided"]
    figures += [share("approval_rounds", "all", "rejection_rate", found.rounds["rejected"],
                      decided),
                share("approval_rounds", "all", "return_rate", found.rounds["returned"],
                      decided),
                share("implementation", "all", "on_time_rate", found.on_time,
                      found.implemented)]
    for q in (found.cost_ratio, found.schedule_ratio):
        figures.append(Figure("estimate_accuracy", q.key, "median_ratio",
                              None if q.median is None else round(q.median, 3), Unit.RATIO,
                              q.n))
    figures.append(count("overdue_steps_now", "all",
                         sum(n for _, n in found.overdue_steps)))
    figures += counts("overdue_steps_now", found.overdue_steps)
    return figures
