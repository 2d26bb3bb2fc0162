"""``/reports/…``: 报表 · 数据分析 — management reports (domain §10) in one shape: figures
with their ``n``, unit, interval where estimated from a sample, and wording in English and
Chinese; JSON, or the same figures as CSV with ``format=csv``. Every report takes the
reporting period and a department, and counts only what the caller may read."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, Query, Request

from app.api.container import services
from app.api.csv_export import csv_response
from app.api.period import Period, period_params
from app.api.report_figures import figure_bodies
from app.api.security import allow
from app.api.v1.routing import feature_router
from app.api.v1.schemas.reports import ManagementReportOut
from app.domain.access.roles import Role
from app.domain.reports.figures import Report
from app.services.ports import RequestContext

router = feature_router("reports")

Reporter = Annotated[RequestContext, Depends(allow(Role.ADMIN, Role.EXECUTIVE, Role.ANALYST,
                                                   Role.DEPARTMENT_HEAD, Role.ACCOUNT_MANAGER))]
Department = Annotated[UUID | None, Query(description="One department's records")]
Format = Annotated[Literal["json", "csv"], Query(description="csv: the same figures as a "
                                                             "spreadsheet (UTF-8 with BOM)")]
CSV = {200: {"content": {"text/csv": {}}}}
CSV_HEADER = ("section", "key", "metric", "value", "unit", "n", "ci95_low", "ci95_high", "flag",
              "label_en", "label_zh_cn")


def _body(report: Report) -> dict[str, Any]:
    return {"report": report.name, "as_of": report.as_of, "since": report.since,
            "until": report.until, "department_id": report.department_id,
            "reach": report.reach.value, "figures": figure_bodies(report.figures)}


def answer(report: Report, format: str) -> Any:
    """JSON, or the same figures row by row as CSV."""
    body = _body(report)
    if format == "csv":
        rows = [(f["section"], f["key"], f["metric"], f["value"], f["unit"], f["n"],
                 (f["interval"] or {}).get("low"), (f["interval"] or {}).get("high"),
                 f["flag"], f["label"]["en"], f["label"]["zh-CN"]) for f in body["figures"]]
        name = report.name.replace("_", "-")
        return csv_response(CSV_HEADER, rows, f"{name}-report-{report.as_of:%Y%m%d}.csv")
    return ManagementReportOut.model_validate(body)


@router.get("/reports/change-requests", response_model=ManagementReportOut,
            summary="Changes: counts, approval lead times, rejection and on-time rates",
            responses=CSV)
async def change_requests(
    request: Request, ctx: Reporter,
    period: Annotated[Period, Depends(period_params("Created"))],
    department_id: Department = None, format: Format = "json",
) -> Any:
    """Changes created in the period: counts by state, type, category and risk level;
    approval lead time per step role and end to end (median and p90 in working hours of
    the business calendar); rejection and return rates of decided approval rounds;
    implementation by the requested date; actual ÷ estimated cost and schedule (median);
    emergency share; approval steps overdue now (whenever their change was created)."""
    report = await services(request).reports.change_requests(
        ctx, period.since, period.until, department_id)
    return answer(report, format)


@router.get("/reports/customers", response_model=ManagementReportOut,
            summary="Customers: tiers, stages, departments, integrity, health, new and churned",
            responses=CSV)
async def customers(
    request: Request, ctx: Reporter,
    period: Annotated[Period, Depends(period_params("New or churned"))],
    department_id: Department = None, format: Format = "json",
) -> Any:
    """Live customers now (not archived or merged) by tier, stage and department, by
    integrity and health band (health as last computed by the health check) with medians;
    per month of the period, customers created and customers churned with their reason."""
    report = await services(request).reports.customers(ctx, period.since, period.until,
                                                       department_id)
    return answer(report, format)


@router.get("/reports/account-managers", response_model=ManagementReportOut,
            summary="Per account manager: customers, health, feedback SLA, changes, "
                    "satisfaction, handovers, overdue contacts, plans", responses=CSV)
async def account_managers(
    request: Request, ctx: Reporter,
    period: Annotated[Period, Depends(period_params("Received, created, answered, "
                                                    "transferred or due"))],
    department_id: Department = None, format: Format = "json",
) -> Any:
    """Keyed by the manager's id. Customers owned now by tier, health (mean, below the
    threshold), customers whose next contact (回访, the tier's cadence in working days) is
    overdue now, plans owned now by state; in the period: feedback SLA compliance, change
    outcomes, CSAT and NPS with 95% intervals and shrunk toward the overall mean (flagged:
    compare managers by the shrunk figure), handovers in and out, milestones of active and
    completed plans due in the period with the share done on time (over those done or past
    their date), objectives achieved and budget variance per currency on the plans whose
    planned window meets the period (as ``/reports/plans``). A manager sees their own row,
    a head their department's managers, executives, analysts and admins every manager."""
    report = await services(request).reports.account_managers(ctx, period.since,
                                                              period.until, department_id)
    return answer(report, format)


@router.get("/reports/risks", response_model=ManagementReportOut,
            summary="Risks: open by level, owner and heat-map cell; reviews overdue; "
                    "opened and closed per month; links", responses=CSV)
async def risks(
    request: Request, ctx: Reporter,
    period: Annotated[Period, Depends(period_params("Opened or closed"))],
    department_id: Department = None, format: Format = "json",
) -> Any:
    """Open (not closed) risks now by level, owner and likelihood×impact cell (the heat
    map), reviews past their date, and how many are linked to a change, a handover or a
    plan; per month of the period, risks opened and risks closed (the heat map over time).
    Every member of a department reads its risks; executives, analysts and admins all."""
    report = await services(request).reports.risks(ctx, period.since, period.until,
                                                   department_id)
    return answer(report, format)
