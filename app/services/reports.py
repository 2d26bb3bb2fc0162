"""报表 · 数据分析 use cases (domain §10): each report reads aggregates within the caller's
record scope (never a record they may not read), over the period and department asked,
and returns the shared figure list (``app.domain.reports.figures``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

from app.domain.access.scope import read_scope
from app.domain.plans.access import read_reach
from app.domain.plans.figures import variance
from app.domain.reports.figures import (
    Figure,
    Report,
    Unit,
    count,
    counts,
    share,
    spread,
    survey_figure,
)
from app.domain.reports.working_time import span, working_days
from app.domain.risk.matrix import RiskLevel
from app.domain.risk.register import read_scope as risk_read_scope
from app.domain.surveys.scores import (
    GroupTally,
    Metric,
    csat_of_counts,
    nps_of_counts,
    shrink,
)
from app.services.business_calendar import load_calendar
from app.services.ports import Clock, RequestContext
from app.services.ports.reports import (
    ChangeRequestFigures,
    CustomerFigures,
    ManagerFigures,
    ManagerPlanFigures,
    ReportFilter,
    RiskFigures,
)
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

    async def customers(self, ctx: RequestContext, since: datetime | None,
                        until: datetime | None, department_id: UUID | None) -> Report:
        """Live customers now by tier, stage and department, their integrity and health;
        customers new and churned (with reasons) per month of the period."""
        now = self._clock.now()
        f = ReportFilter(read_scope(ctx.actor), since, until, department_id)
        async with self._uow(ctx, write=False) as uow:
            found = await uow.reports.customers(f)
        return self._report("customers", f, now, customer_figures(found))

    async def account_managers(self, ctx: RequestContext, since: datetime | None,
                               until: datetime | None, department_id: UUID | None) -> Report:
        """One row per account manager whose records the caller may read: a manager sees
        their own, a head their department's, executives, analysts and admins all."""
        now = self._clock.now()
        f = ReportFilter(read_scope(ctx.actor), since, until, department_id)
        async with self._uow(ctx, write=False) as uow:
            found = await uow.reports.account_managers(f, now)
            today = (await load_calendar(uow)).local_date(now)
            follow_through = await uow.reports.manager_plans(f, read_reach(ctx.actor), today)
        return self._report("account_managers", f, now,
                            manager_figures(found) + manager_plan_figures(follow_through))

    async def risks(self, ctx: RequestContext, since: datetime | None, until: datetime | None,
                    department_id: UUID | None) -> Report:
        """Open risks now by level, owner and heat-map cell, reviews overdue, links to
        changes, handovers and plans; risks opened and closed per month of the period."""
        now = self._clock.now()
        f = ReportFilter(risk_read_scope(ctx.actor), since, until, department_id)
        async with self._uow(ctx, write=False) as uow:
            today = (await load_calendar(uow)).local_date(now)
            found = await uow.reports.risks(f, today)
        return self._report("risks", f, now, risk_figures(found))


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


def customer_figures(found: CustomerFigures) -> list[Figure]:
    figures = [count("total", "all", sum(n for _, n in found.counts["tier"]))]
    for dim in ("tier", "stage", "department"):
        figures += counts(f"by_{dim}", found.counts[dim])
    figures += counts("integrity_bands", found.integrity_bands)
    figures.append(Figure("integrity", "all", "median", found.integrity.median, Unit.SCORE,
                          found.integrity.n))
    figures += counts("health_bands", found.health_bands)
    figures.append(Figure("health", "all", "median", None if found.health.median is None
                          else round(found.health.median, 1), Unit.SCORE, found.health.n))
    figures.append(share("health", "all", "below_threshold", found.below_threshold,
                         found.health.n))
    figures += [count("new", month, n) for month, n in found.new]
    figures.append(count("new", "all", sum(n for _, n in found.new)))
    figures += [count("churned", f"{month}/{reason or 'none'}", n)
                for month, reason, n in found.churned]
    figures.append(count("churned", "all", sum(n for _, _, n in found.churned)))
    return figures


def manager_figures(found: ManagerFigures) -> list[Figure]:
    figures: list[Figure] = []
    for manager, tier, n in found.customers:
        figures.append(count("customers_by_tier", f"{manager}/{tier}", n))
    totals: dict[str, int] = {}
    for manager, _, n in found.customers:
        totals[manager] = totals.get(manager, 0) + n
    figures += [count("customers", m, n) for m, n in sorted(totals.items())]
    for manager, n, mean, below in found.health:
        figures += [Figure("health", manager, "mean", None if mean is None else round(mean, 1),
                           Unit.SCORE, n),
                    share("health", manager, "below_threshold", below, n)]
    for manager, ack_n, ack_met, res_n, res_met in found.feedback:
        figures += [share("feedback_sla", manager, "acknowledge_compliance", ack_met, ack_n),
                    share("feedback_sla", manager, "resolve_compliance", res_met, res_n)]
    for manager, total, implemented, rejected, cancelled in found.changes:
        figures += [count("changes", manager, total),
                    count("changes", manager, implemented, "implemented"),
                    share("changes", manager, "rejection_rate", rejected, total),
                    count("changes", manager, cancelled, "cancelled")]
    shrunk = {
        Metric.CSAT: shrink(Metric.CSAT, [GroupTally.csat(m, ok, n) for m, n, ok in found.csat]),
        Metric.NPS: shrink(Metric.NPS, [GroupTally.nps(m, p, d, n)
                                        for m, n, p, d in found.nps])}
    raw = {Metric.CSAT: {m: csat_of_counts(ok, n) for m, n, ok in found.csat},
           Metric.NPS: {m: nps_of_counts(p, d, n) for m, n, p, d in found.nps}}
    for metric, result in shrunk.items():
        for g in result.groups:
            figures.append(survey_figure("satisfaction", g.key, raw[metric][g.key]))
            figures.append(Figure("satisfaction", g.key, f"{metric.value}_shrunk",
                                  None if g.shrunk is None else round(g.shrunk, 1),
                                  Unit.POINTS if metric is Metric.NPS else Unit.PERCENT, g.n,
                                  flag=result.explanation))
    for manager, moved_in, moved_out in found.handovers:
        figures += [count("handovers", manager, moved_in, "in"),
                    count("handovers", manager, moved_out, "out")]
    return figures


def manager_plan_figures(found: ManagerPlanFigures) -> list[Figure]:
    """Overdue contacts now (over the customers with a next contact scheduled), plans
    owned now by state, milestones due in the period done on time (over those judged:
    done, or past their date), objectives achieved (over every objective) and budget
    variance per currency (actual against planned, over the plans with such lines)."""
    figures: list[Figure] = []
    for manager, scheduled, overdue in found.contacts:
        figures += [count("contacts", manager, overdue, "overdue"),
                    share("contacts", manager, "overdue_share", overdue, scheduled)]
    totals: dict[str, int] = {}
    for manager, state, n in found.plans:
        figures.append(count("plans_by_state", f"{manager}/{state}", n))
        totals[manager] = totals.get(manager, 0) + n
    figures += [count("plans", m, n) for m, n in sorted(totals.items())]
    for manager, due, judged, on_time in found.milestones:
        figures += [count("plan_milestones", manager, due, "due"),
                    share("plan_milestones", manager, "on_time_rate", on_time, judged),
                    count("plan_milestones", manager, judged - on_time, "late")]
    for manager, objectives, achieved in found.objectives:
        figures.append(share("plan_objectives", manager, "achieved_rate", achieved,
                             objectives))
    for manager, currency, plans, planned, actual in found.budget:
        pct = variance(planned, actual).variance_pct
        figures.append(Figure("plan_budget", f"{manager}/{currency}", "variance_pct",
                              None if pct is None else round(float(pct), 1), Unit.PERCENT,
                              plans))
    return figures


def risk_figures(found: RiskFigures) -> list[Figure]:
    figures = [count("open", "all", sum(n for _, n in found.open_by_level))]
    figures += [count("open_by_level", RiskLevel(v).label, n) for v, n in found.open_by_level]
    figures += counts("open_by_owner", found.open_by_owner)
    figures += [count("heat_map", f"{li}x{im}", n) for li, im, n in found.heat]
    figures.append(count("reviews_overdue", "all", found.reviews_overdue))
    figures += [count("linked", k, n) for k, n in found.linked.items()]
    for section, months in (("opened", found.opened), ("closed", found.closed)):
        figures += [count(section, m, n) for m, n in months]
        figures.append(count(section, "all", sum(n for _, n in months)))
    return figures
