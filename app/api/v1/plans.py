"""``/plans``: 客户方案 — what was committed to a customer (scope, objectives, milestones
and deliverables, budget), its workflow, and its baseline's change control: amendments
attached to change requests, applied once approved, each a revision."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, Query, Request, Response
from fastapi.responses import HTMLResponse

from app.api import report_page
from app.api.container import services
from app.api.csv_export import csv_response
from app.api.etag import if_match, set_etag
from app.api.i18n import pick_language
from app.api.idempotency import Idempotent
from app.api.pagination import ListPage, list_page, page_params
from app.api.period import Period, period_params
from app.api.problems import error_responses
from app.api.security import allow, public
from app.api.v1.plan_parts import plan_part, sent
from app.api.v1.risks import risk_out
from app.api.v1.routing import feature_router
from app.api.v1.schemas.plans import (
    AmendmentIn,
    AmendmentOut,
    BudgetLineIn,
    BudgetLinePatch,
    DeliverableIO,
    ExpectationIn,
    ExpectationOut,
    ExpectationPatch,
    ExpectationsOut,
    MilestoneIn,
    MilestonePatch,
    ObjectiveIn,
    ObjectivePatch,
    PlanCreate,
    PlanOut,
    PlanPatch,
    PlanPerformanceOut,
    PlanPerformanceReportOut,
    PlanPerformanceTotalsOut,
    ProgressReportIn,
    ProgressReportOut,
    ProgressReportPatch,
    PublicReportOut,
    ReasonIn,
    ReportAcknowledgeIn,
    ReportCommentIn,
    ReportCommentOut,
    ReportShareIn,
    RevisionsOut,
    SharedProgressReportOut,
)
from app.api.v1.schemas.risks import RiskOut
from app.domain.access.roles import Role
from app.domain.common.ids import new_id
from app.domain.common.paging import PageRequest
from app.domain.plans import expectations
from app.domain.plans.access import PLAN_EDITORS
from app.domain.plans.baseline import AmendmentChanges, NewBudgetLine, NewMilestone
from app.domain.plans.expectations import Gap
from app.domain.plans.figures import (
    Variance,
    line_variance,
    milestone_on_time,
    milestone_overdue,
    objective_status,
    performance,
)
from app.domain.plans.model import (
    BudgetLine,
    Constraints,
    Deliverable,
    Expectation,
    Milestone,
    Objective,
    PlanState,
    TeamMember,
    Training,
)
from app.services.plans import NewPlan, PlanView, PublicReport, ReportView
from app.services.ports import RequestContext
from app.services.ports.plans import PlanFilter

router = feature_router("plans")

Reader = Annotated[RequestContext, Depends(allow(*Role))]
Editor = Annotated[RequestContext, Depends(allow(*PLAN_EDITORS))]
Anyone = Annotated[RequestContext, Depends(public())]
Version = Annotated[int, Depends(if_match)]
ERRORS = error_responses(404, 409, 412, 428)
BASE = "/plans/{plan_id}"


def _variance(v: Variance) -> dict[str, Any]:
    return {"planned": v.planned, "actual": v.actual, "variance": v.variance,
            "variance_pct": v.variance_pct}


def plan_out(view: PlanView, response: Response | None = None) -> PlanOut:
    plan, today = view.plan, view.today
    if response is not None:
        set_etag(response, plan.version)
    figures = performance(plan.objectives, plan.milestones, plan.budget_lines, today)
    return PlanOut.model_validate({
        **plan.__dict__,
        "team": [t.__dict__ for t in plan.team],
        "constraints": plan.constraints.__dict__,
        "objectives": [{**o.__dict__, "status": objective_status(o, today)}
                       for o in plan.objectives],
        "milestones": [{**m.__dict__,
                        "deliverables": [{**d.__dict__, "training": None if d.training is None
                                          else d.training.__dict__} for d in m.deliverables],
                        "on_time": milestone_on_time(m, today),
                        "overdue": milestone_overdue(m, today)} for m in plan.milestones],
        "budget_lines": [{**b.__dict__, **_variance(line_variance(b))}
                         for b in plan.budget_lines],
        "figures": {**{k: v for k, v in figures.__dict__.items() if k != "budget"},
                    "budget": [{"currency": c, **_variance(v)}
                               for c, v in figures.budget.items()]},
        "gaps": expectations.gap_summary(plan, plan.expectations, today),
        "allowed_actions": view.allowed_actions})


def _deliverables(items: list[DeliverableIO]) -> list[Deliverable]:
    return [Deliverable(id=d.id or new_id(), title=d.title, kind=d.kind,
                        delivered_at=d.delivered_at,
                        training=None if d.training is None else Training(
                            tuple(d.training.attendees), d.training.date,
                            tuple(d.training.materials))) for d in items]


def _plan_changes(body: PlanPatch) -> dict[str, Any]:
    changes: dict[str, Any] = sent(body)
    if "team" in changes:
        changes["team"] = [TeamMember(t.user_id, t.part, t.note) for t in body.team]
    if "constraints" in changes:
        changes["constraints"] = Constraints(**body.constraints.model_dump())
    return changes


@router.post("/plans", response_model=PlanOut, status_code=201, summary="Start a plan",
             dependencies=[Idempotent], responses=error_responses(409))
async def create(request: Request, response: Response, body: PlanCreate,
                 ctx: Editor) -> PlanOut:
    """A draft for a customer you may write (project managers: any customer); its owner
    defaults to the customer's manager."""
    view = await services(request).plans.create(ctx, NewPlan(
        customer_id=body.customer_id, title=body.title, scope_statement=body.scope_statement,
        owner_id=body.owner_id, team=tuple(TeamMember(t.user_id, t.part, t.note)
                                           for t in body.team),
        constraints=Constraints(**body.constraints.model_dump()),
        planned_start=body.planned_start, planned_end=body.planned_end))
    response.headers["Location"] = f"/api/v1/plans/{view.plan.id}"
    return plan_out(view, response)


@router.get("/plans", response_model=ListPage[PlanOut], summary="Plans you may read")
async def list_plans(
    request: Request, ctx: Reader,
    page: Annotated[PageRequest, Depends(page_params(["updated_at", "created_at"],
                                                     "-updated_at"))],
    customer_id: Annotated[UUID | None, Query()] = None,
    owner_id: Annotated[UUID | None, Query()] = None,
    department_id: Annotated[UUID | None, Query()] = None,
    state: Annotated[PlanState | None, Query()] = None,
) -> dict[str, object]:
    result = await services(request).plans.list(
        ctx, PlanFilter(customer_id=customer_id, owner_id=owner_id,
                        department_id=department_id, state=state), page)
    return list_page(request, result, page, plan_out)


@router.get(BASE, response_model=PlanOut, summary="Read a plan",
            responses=error_responses(404))
async def get(request: Request, response: Response, plan_id: UUID, ctx: Reader) -> PlanOut:
    return plan_out(await services(request).plans.get(ctx, plan_id), response)


@router.patch(BASE, response_model=PlanOut, summary="Change a plan", responses=ERRORS)
async def update(request: Request, response: Response, plan_id: UUID, body: PlanPatch,
                 ctx: Editor, version: Version) -> PlanOut:
    """On an active plan the scope statement is part of the baseline: changing it is 409
    `plan_baseline_frozen` (amend it through a change request)."""
    return plan_out(await services(request).plans.update(ctx, plan_id, version,
                                                         _plan_changes(body)), response)


@router.post(BASE + "/activate", response_model=PlanOut, responses=ERRORS,
             summary="Activate a plan (freezes its baseline)", dependencies=[Idempotent])
async def activate(request: Request, response: Response, plan_id: UUID, ctx: Editor,
                   version: Version) -> PlanOut:
    """Needs a scope statement, planned start and end, and at least one milestone."""
    return plan_out(await services(request).plans.act(ctx, plan_id, version, "activate"),
                    response)


@router.post(BASE + "/complete", response_model=PlanOut, responses=ERRORS,
             summary="Complete a plan (every milestone done)", dependencies=[Idempotent])
async def complete(request: Request, response: Response, plan_id: UUID, ctx: Editor,
                   version: Version) -> PlanOut:
    return plan_out(await services(request).plans.act(ctx, plan_id, version, "complete"),
                    response)


@router.post(BASE + "/cancel", response_model=PlanOut, responses=ERRORS,
             summary="Cancel a plan (with a reason)", dependencies=[Idempotent])
async def cancel(request: Request, response: Response, plan_id: UUID, body: ReasonIn,
                 ctx: Editor, version: Version) -> PlanOut:
    return plan_out(await services(request).plans.act(ctx, plan_id, version, "cancel",
                                                      body.reason), response)


# parts -------------------------------------------------------------------------------

def _milestone_changes(body: MilestonePatch) -> dict[str, Any]:
    changes = sent(body)
    if "deliverables" in changes:
        changes["deliverables"] = _deliverables(body.deliverables)
    return changes


# What every plan-part route shares: who may call, the answer, the errors.
PART_ROUTES = {"editor": Editor, "to_out": plan_out, "out": PlanOut, "responses": ERRORS}
plan_part(router, "objective", BASE + "/objectives", "objective_id",
          new=ObjectiveIn, patch=ObjectivePatch,
          to_item=lambda body: Objective(id=new_id(), **body.model_dump()),
          summaries=("Add an objective", "Change an objective or record its actual"), **PART_ROUTES)
plan_part(router, "milestone", BASE + "/milestones", "milestone_id",
          new=MilestoneIn, patch=MilestonePatch,
          to_item=lambda body: Milestone(id=new_id(), title=body.title,
                                         planned_date=body.planned_date,
                                         owner_id=body.owner_id,
                                         deliverables=_deliverables(body.deliverables)),
          to_changes=_milestone_changes,
          summaries=("Add a milestone (draft plans; active ones by amendment)",
                     "Record a milestone's progress, or change it"),
          patch_description="Status, actual date, acceptance and deliverables are progress; "
                            "the planned date of\nan active plan is baseline "
                            "(409 `plan_baseline_frozen`).", **PART_ROUTES)
plan_part(router, "budget_line", BASE + "/budget-lines", "line_id",
          new=BudgetLineIn, patch=BudgetLinePatch,
          to_item=lambda body: BudgetLine(id=new_id(), **body.model_dump()),
          summaries=("Add a budget line (draft plans; active ones by amendment)",
                     "Record actual cost, or change a budget line"), **PART_ROUTES)


# change control ----------------------------------------------------------------------

@router.post(BASE + "/amendments", response_model=AmendmentOut, status_code=201,
             summary="Attach a proposed baseline change to a change request",
             responses=error_responses(404, 409), dependencies=[Idempotent])
async def propose_amendment(request: Request, plan_id: UUID, body: AmendmentIn,
                            ctx: Editor) -> AmendmentOut:
    """The change request must be of the plan's customer and still in draft or returned:
    it is then assessed and approved with this amendment on its form."""
    c = body.changes
    changes = AmendmentChanges(
        scope_statement=c.scope_statement, milestone_dates=dict(c.milestone_dates),
        budget_planned=dict(c.budget_planned),
        add_milestones=tuple(NewMilestone(m.title, m.planned_date, m.owner_id)
                             for m in c.add_milestones),
        add_budget_lines=tuple(NewBudgetLine(b.category, b.planned, b.currency)
                               for b in c.add_budget_lines))
    amendment = await services(request).plans.propose_amendment(
        ctx, plan_id, body.change_request_id, changes)
    return AmendmentOut.model_validate(amendment.__dict__)


@router.get(BASE + "/amendments", response_model=list[AmendmentOut],
            summary="A plan's amendments", responses=error_responses(404))
async def list_amendments(request: Request, plan_id: UUID, ctx: Reader) -> list[AmendmentOut]:
    found = await services(request).plans.amendments(ctx, plan_id)
    return [AmendmentOut.model_validate(a.__dict__) for a in found]


@router.post(BASE + "/amendments/{amendment_id}/apply", response_model=PlanOut,
             responses=ERRORS, dependencies=[Idempotent],
             summary="Apply an approved change request's amendment (the plan's owner)")
async def apply_amendment(request: Request, response: Response, plan_id: UUID,
                          amendment_id: UUID, ctx: Editor, version: Version) -> PlanOut:
    """Refused when the change request is not approved (`plan_amendment_not_approved`) or
    the amendment was applied already (`plan_amendment_already_applied`)."""
    return plan_out(await services(request).plans.apply_amendment(ctx, plan_id, version,
                                                                  amendment_id), response)


@router.get(BASE + "/revisions", response_model=RevisionsOut,
            summary="The baseline, each revision, and the current content",
            responses=error_responses(404))
async def revisions(request: Request, plan_id: UUID, ctx: Reader) -> RevisionsOut:
    found = await services(request).plans.revisions(ctx, plan_id)
    return RevisionsOut(revisions=[r.__dict__ for r in found.revisions],  # type: ignore[misc]
                        current=found.current)


@router.get(BASE + "/risks", response_model=ListPage[RiskOut],
            summary="Risks of the register about this plan", responses=error_responses(404))
async def plan_risks(
    request: Request, plan_id: UUID, ctx: Reader,
    page: Annotated[PageRequest, Depends(page_params(["updated_at", "created_at", "level"],
                                                     "-updated_at"))],
) -> dict[str, object]:
    result = await services(request).plans.risks(ctx, plan_id, page)
    return list_page(request, result, page, lambda r: risk_out(None, r))


# progress reports ----------------------------------------------------------------------

REPORTS = BASE + "/reports"
REPORT = REPORTS + "/{report_id}"


def report_out(view: ReportView, response: Response | None = None,
               now: datetime | None = None) -> ProgressReportOut:
    r = view.report
    if response is not None:
        set_etag(response, r.version)
    shared = (r.share_token_hash is not None and r.share_revoked_at is None
              and (now is None or (r.share_expires_at is not None and r.share_expires_at > now)))
    return ProgressReportOut.model_validate({
        **r.__dict__, "milestone_status": view.milestone_status,
        "allowed_actions": view.allowed_actions, "shared": shared})


def _now(request: Request) -> datetime:
    return services(request).clock.now()


@router.post(REPORTS, response_model=ProgressReportOut, status_code=201,
             summary="Draft a progress report (进展报告)", dependencies=[Idempotent],
             responses=error_responses(404, 409))
async def create_report(request: Request, response: Response, plan_id: UUID,
                        body: ProgressReportIn, ctx: Editor) -> ProgressReportOut:
    """On an active or completed plan; the milestone status is computed, not written."""
    view = await services(request).plans.create_report(
        ctx, plan_id, body.period_start, body.period_end,
        body.model_dump(include={"completed_work", "issues", "next_steps", "internal_notes"}))
    response.headers["Location"] = f"/api/v1/plans/{plan_id}/reports/{view.report.id}"
    return report_out(view, response, _now(request))


@router.get(REPORTS, response_model=ListPage[ProgressReportOut],
            summary="A plan's progress reports", responses=error_responses(404))
async def list_reports(
    request: Request, plan_id: UUID, ctx: Reader,
    page: Annotated[PageRequest, Depends(page_params(["created_at"], "-created_at"))],
) -> dict[str, object]:
    result = await services(request).plans.list_reports(ctx, plan_id, page)
    now = _now(request)
    return list_page(request, result, page, lambda v: report_out(v, None, now))


@router.get(REPORT, response_model=ProgressReportOut, summary="Read a progress report",
            responses=error_responses(404))
async def get_report(request: Request, response: Response, plan_id: UUID, report_id: UUID,
                     ctx: Reader) -> ProgressReportOut:
    view = await services(request).plans.get_report(ctx, plan_id, report_id)
    return report_out(view, response, _now(request))


@router.patch(REPORT, response_model=ProgressReportOut, summary="Change a draft progress report",
              responses=ERRORS)
async def update_report(request: Request, response: Response, plan_id: UUID,
                        report_id: UUID, body: ProgressReportPatch, ctx: Editor,
                        version: Version) -> ProgressReportOut:
    """A published report is immutable: 409 `plan_report_published`."""
    changes = sent(body)
    view = await services(request).plans.update_report(ctx, plan_id, report_id, version,
                                                       changes)
    return report_out(view, response, _now(request))


@router.post(REPORT + "/publish", response_model=ProgressReportOut, responses=ERRORS,
             summary="Publish a progress report (freezes it)", dependencies=[Idempotent])
async def publish_report(request: Request, response: Response, plan_id: UUID,
                         report_id: UUID, ctx: Editor, version: Version) -> ProgressReportOut:
    view = await services(request).plans.publish_report(ctx, plan_id, report_id, version)
    return report_out(view, response, _now(request))


@router.post(REPORT + "/share", response_model=SharedProgressReportOut, responses=ERRORS,
             summary="Share a published report with the customer through a link")
async def share_report(request: Request, response: Response, plan_id: UUID, report_id: UUID,
                       body: ReportShareIn, ctx: Editor,
                       version: Version) -> SharedProgressReportOut:
    """The token is in this answer only (the service keeps its hash), so no Idempotency-Key;
    sharing again replaces the link. It expires after `expires_in_days` and can be
    revoked."""
    view, token, link = await services(request).plans.share_report(
        ctx, plan_id, report_id, version, body.expires_in_days)
    out = report_out(view, response, _now(request))
    return SharedProgressReportOut(**out.model_dump(), token=token, link=link)


@router.post(REPORT + "/revoke-share", response_model=ProgressReportOut, responses=ERRORS,
             summary="Revoke a report's link", dependencies=[Idempotent])
async def revoke_report_share(request: Request, response: Response, plan_id: UUID,
                              report_id: UUID, ctx: Editor, version: Version) -> ProgressReportOut:
    view = await services(request).plans.revoke_report_share(ctx, plan_id, report_id, version)
    return report_out(view, response, _now(request))


# the customer's side: no account, the token is the key -----------------------------------

def _public_out(found: PublicReport) -> PublicReportOut:
    r = found.report
    assert r.published_at is not None
    return PublicReportOut(
        customer_name=found.customer_name, plan_title=found.plan_title,
        period_start=r.period_start, period_end=r.period_end,
        completed_work=r.completed_work, issues=r.issues, next_steps=r.next_steps,
        milestone_status=r.milestone_status or [],  # type: ignore[arg-type]
        published_at=r.published_at, acknowledged_at=r.acknowledged_at,
        link_expires_at=found.expires_at)


@router.get("/public/plan-reports/{token}", response_model=PublicReportOut,
            summary="Read a shared progress report (no account; the token is the key)",
            responses={**error_responses(404, 429),
                       200: {"content": {"text/html": {}}}})
async def public_report(request: Request, token: str, ctx: Anyone) -> Any:
    """Customer-facing fields only. A wrong, expired or revoked link is 404; attempts per
    address are limited (429 with Retry-After). A browser (Accept: text/html first) gets a
    plain HTML page in zh-CN or English by Accept-Language."""
    found = _public_out(await services(request).plans.public_report(ctx, token[:200]))
    if report_page.wants_html(request.headers.get("accept")):
        lang = pick_language(request.headers.get("accept-language"))
        return HTMLResponse(report_page.render(found.model_dump(), lang),
                            headers={"Vary": "Accept, Accept-Language"})
    return found


@router.post("/public/plan-reports/{token}/acknowledge", response_model=PublicReportOut,
             summary="Acknowledge a shared progress report", responses=error_responses(404, 429))
async def public_acknowledge(request: Request, token: str, body: ReportAcknowledgeIn,
                             ctx: Anyone) -> PublicReportOut:
    return _public_out(await services(request).plans.public_acknowledge(ctx, token[:200],
                                                                        body.name))


@router.post("/public/plan-reports/{token}/comments", response_model=ReportCommentOut,
             status_code=201, summary="Comment on a shared progress report",
             responses=error_responses(404, 429))
async def public_comment(request: Request, token: str, body: ReportCommentIn,
                         ctx: Anyone) -> ReportCommentOut:
    """The comment arrives as a feedback item on the plan, for the customer's manager."""
    feedback_id = await services(request).plans.public_comment(ctx, token[:200], body.comment,
                                                               body.name)
    return ReportCommentOut(feedback_id=feedback_id)


# expectations ---------------------------------------------------------------------------

def _expectation_out(e: Expectation, view: PlanView) -> ExpectationOut:
    return ExpectationOut.model_validate({
        **e.__dict__, "gaps": expectations.gaps(e, view.plan, view.today)})


@router.post(BASE + "/expectations", response_model=ExpectationOut, status_code=201,
             summary="Record what the customer expects (预期管理)", responses=ERRORS,
             dependencies=[Idempotent])
async def add_expectation(request: Request, response: Response, plan_id: UUID,
                          body: ExpectationIn, ctx: Editor, version: Version) -> ExpectationOut:
    """A reason is required when it is not realistic, the commitment when something else was
    committed; the ETag is the plan's new version."""
    new = Expectation(id=new_id(), **body.model_dump())
    view, added = await services(request).plans.add_expectation(ctx, plan_id, version, new)
    set_etag(response, view.plan.version)
    return _expectation_out(added, view)


@router.patch(BASE + "/expectations/{expectation_id}", response_model=ExpectationOut,
              summary="Assess or review an expectation", responses=ERRORS)
async def update_expectation(request: Request, response: Response, plan_id: UUID,
                             expectation_id: UUID, body: ExpectationPatch, ctx: Editor,
                             version: Version) -> ExpectationOut:
    changes = sent(body)
    view, changed = await services(request).plans.update_expectation(
        ctx, plan_id, version, expectation_id, changes)
    set_etag(response, view.plan.version)
    return _expectation_out(changed, view)


@router.get(BASE + "/expectations", response_model=ExpectationsOut,
            summary="The expectations register with its derived gaps",
            responses=error_responses(404))
async def list_expectations(
    request: Request, response: Response, plan_id: UUID, ctx: Reader,
    gap: Annotated[Gap | Literal["any", "none"] | None,
                   Query(description="Only expectations with this gap (any: with a gap; "
                                     "none: without)")] = None,
) -> ExpectationsOut:
    """The whole register (at most 200 per plan), oldest first; the ETag is the plan's."""
    view = await services(request).plans.get(ctx, plan_id)
    set_etag(response, view.plan.version)
    items = [_expectation_out(e, view) for e in view.plan.expectations]
    if gap == "any":
        items = [i for i in items if i.gaps]
    elif gap == "none":
        items = [i for i in items if not i.gaps]
    elif gap is not None:
        items = [i for i in items if gap in i.gaps]
    summary = expectations.gap_summary(view.plan, view.plan.expectations, view.today)
    return ExpectationsOut(data=items, summary=summary)  # type: ignore[arg-type]


# performance (绩效评估) -------------------------------------------------------------------

Reporter = Annotated[RequestContext, Depends(allow(
    Role.ADMIN, Role.EXECUTIVE, Role.ANALYST, Role.DEPARTMENT_HEAD, Role.ACCOUNT_MANAGER,
    Role.PROJECT_MANAGER))]
CSV_HEADER = ("plan_id", "title", "customer_id", "department_id", "owner_id", "state",
              "objectives", "objectives_achieved", "milestones", "milestones_on_time",
              "milestones_late", "currency", "budget_planned", "budget_actual",
              "budget_variance", "budget_variance_pct", "expectations", "expectations_met",
              "gaps_open")


def _budget(budget: dict[str, Variance]) -> list[dict[str, Any]]:
    return [{"currency": c, **_variance(v)} for c, v in budget.items()]


@router.get("/reports/plans", response_model=PlanPerformanceReportOut,
            summary="Plan performance: objectives, milestones on time, budget variance, "
                    "expectations", responses={200: {"content": {"text/csv": {}}}})
async def performance_report(
    request: Request, ctx: Reporter,
    period: Annotated[Period, Depends(period_params("Planned window ending"))],
    department_id: Annotated[UUID | None, Query()] = None,
    owner_id: Annotated[UUID | None, Query()] = None,
    format: Annotated[Literal["json", "csv"], Query(description="csv: a spreadsheet export")]
    = "json",
) -> Any:
    """Active and completed plans you may read whose planned window meets the period; the
    rates count judged milestones (done, or past their date) and all objectives. CSV: one
    line per plan and budget currency."""
    rows, totals = await services(request).plans.performance_report(
        ctx, period.since, period.until,
        PlanFilter(department_id=department_id, owner_id=owner_id))
    if format == "csv":
        lines = []
        for r in rows:
            p, f = r.plan, r.figures
            head = (p.id, p.title, p.customer_id, p.department_id, p.owner_id, p.state,
                    f.objectives, f.objectives_achieved, f.milestones, f.milestones_on_time,
                    f.milestones_late)
            tail = (r.expectations, r.expectations_met, r.gaps_open)
            for c, v in (f.budget or {"": None}).items():  # type: ignore[dict-item]
                money = (c, v.planned, v.actual, v.variance, v.variance_pct) if v else (
                    None,) * 5
                lines.append((*head, *money, *tail))
        return csv_response(CSV_HEADER, lines, "plan-performance.csv")
    return PlanPerformanceReportOut(
        since=period.since, until=period.until,
        plans=[PlanPerformanceOut(
            plan_id=r.plan.id, title=r.plan.title, customer_id=r.plan.customer_id,
            department_id=r.plan.department_id, owner_id=r.plan.owner_id, state=r.plan.state,
            planned_start=r.plan.planned_start, planned_end=r.plan.planned_end,
            objectives=r.figures.objectives, objectives_achieved=r.figures.objectives_achieved,
            milestones=r.figures.milestones, milestones_on_time=r.figures.milestones_on_time,
            milestones_late=r.figures.milestones_late,
            budget=_budget(r.figures.budget),  # type: ignore[arg-type]
            expectations=r.expectations, expectations_met=r.expectations_met,
            gaps_open=r.gaps_open) for r in rows],
        totals=PlanPerformanceTotalsOut(**{**totals.__dict__,
                                           "budget": _budget(totals.budget)}))
