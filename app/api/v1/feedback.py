"""``/feedback``: 反馈 — items from any channel and their closed loop (one POST per
action), SLA breaches, ``/settings/feedback-sla`` and ``/reports/feedback``; and 满意度:
``/reports/satisfaction``. Reports answer JSON, or CSV with ``format=csv``."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, Query, Request, Response

from app.api.container import services
from app.api.contract import acted_by
from app.api.csv_export import csv_response
from app.api.etag import if_match, set_etag
from app.api.idempotency import Idempotent
from app.api.pagination import ListPage, list_page, page_params
from app.api.period import Period, period_params
from app.api.policy_settings import policy_setting
from app.api.problems import error_responses
from app.api.security import allow
from app.api.v1.routing import feature_router
from app.api.v1.schemas.base import JobOut
from app.api.v1.schemas.feedback import (
    ConfirmIn,
    FeedbackCreate,
    FeedbackOut,
    FeedbackReportOut,
    ReopenIn,
    ResolveIn,
    SatisfactionReportOut,
    SlaPolicyIO,
    SlaPolicyOut,
)
from app.domain.access.roles import Role, Scope
from app.domain.common.paging import PageRequest
from app.domain.feedback.model import FeedbackState, FeedbackType, Severity
from app.domain.feedback.sla import SlaPolicy
from app.domain.feedback.workflow import ACTIONS
from app.domain.surveys.scores import Score
from app.services.feedback import ActionInput, NewFeedback, View
from app.services.ports import RequestContext
from app.services.ports.feedback import FeedbackFilter
from app.services.satisfaction import Interval, SatisfactionReport, Scores, Segment

router = feature_router("feedback")

Reader = Annotated[RequestContext, Depends(allow(*Role))]
Recorder = Annotated[RequestContext, Depends(allow(Role.ADMIN, Role.DEPARTMENT_HEAD,
                                                   Role.ACCOUNT_MANAGER))]
Reporter = Annotated[RequestContext, Depends(allow(Role.ADMIN, Role.EXECUTIVE, Role.ANALYST,
                                                   Role.DEPARTMENT_HEAD, Role.ACCOUNT_MANAGER))]
Admin = Annotated[RequestContext, Depends(allow(Role.ADMIN))]
Scheduler = Annotated[RequestContext, Depends(allow(Role.ADMIN, scopes=(Scope.JOBS_RUN,)))]
Version = Annotated[int, Depends(if_match)]
Format = Annotated[Literal["json", "csv"], Query(description="csv: a spreadsheet export")]
ERRORS = error_responses(404, 409, 412, 428)
BASE = "/feedback/{feedback_id}"


def _out(view: View, response: Response | None = None) -> FeedbackOut:
    record, item, sla = view.record, view.record.item, view.sla
    if response is not None:
        set_etag(response, record.version)
    return FeedbackOut.model_validate({
        **item.__dict__, **{k: v for k, v in record.__dict__.items() if k != "item"},
        "allowed_actions": view.allowed_actions,
        "sla": {"acknowledge_due_at": sla.acknowledge_due, "resolve_due_at": sla.resolve_due,
                "acknowledge_breached": sla.acknowledge_breached,
                "resolve_breached": sla.resolve_breached,
                "breaches": [{"clock": b.clock, "due_at": b.due_at, "met_at": b.met_at,
                              "overdue_working_hours": round(
                                  b.overdue.total_seconds() / 3600, 2)}
                             for b in sla.breaches]}})


@router.post("/feedback", response_model=FeedbackOut, status_code=201,
             summary="Record feedback from any channel", dependencies=[Idempotent],
             responses=error_responses(409))
async def create(request: Request, response: Response, body: FeedbackCreate,
                 ctx: Recorder) -> FeedbackOut:
    """The customer's account manager answers for it; its SLA clocks start when it
    arrived (working time of the business calendar)."""
    view = await services(request).feedback.create(ctx, NewFeedback(**body.model_dump()))
    response.headers["Location"] = f"/api/v1/feedback/{view.record.item.id}"
    return _out(view, response)


@router.get("/feedback", response_model=ListPage[FeedbackOut],
            summary="Feedback about customers in your scope")
async def list_feedback(
    request: Request, ctx: Reader,
    page: Annotated[PageRequest, Depends(page_params(["updated_at", "received_at"],
                                                     "-updated_at"))],
    state: Annotated[FeedbackState | None, Query()] = None,
    type: Annotated[FeedbackType | None, Query()] = None,
    severity: Annotated[Severity | None, Query()] = None,
    customer_id: Annotated[UUID | None, Query()] = None,
    owner_id: Annotated[UUID | None, Query()] = None,
    department_id: Annotated[UUID | None, Query()] = None,
    change_request_id: Annotated[UUID | None, Query()] = None,
    handover_id: Annotated[UUID | None, Query()] = None,
    open: Annotated[bool, Query(description="Only received, acknowledged or in progress")]
    = False,
    breached: Annotated[bool, Query(description="Only those past an SLA due time now")] = False,
) -> dict[str, object]:
    svc = services(request)
    filters = FeedbackFilter(
        state=state, type=type, severity=severity, customer_id=customer_id, owner_id=owner_id,
        department_id=department_id, change_request_id=change_request_id,
        handover_id=handover_id, open_only=open,
        breached_at=svc.clock.now() if breached else None)
    return list_page(request, await svc.feedback.list(ctx, filters, page), page, _out)


@router.get(BASE, response_model=FeedbackOut, summary="Read a feedback item",
            responses=error_responses(404))
async def get(request: Request, response: Response, feedback_id: UUID,
              ctx: Reader) -> FeedbackOut:
    return _out(await services(request).feedback.get(ctx, feedback_id), response)


def _route(name: str, summary: str, endpoint: Any) -> None:
    endpoint.__name__ = name
    router.post(f"{BASE}/{name}", response_model=FeedbackOut, summary=summary,
                responses=ERRORS, dependencies=[Idempotent], name=name,
                openapi_extra=acted_by(ACTIONS[name].parties))(endpoint)


def _plain(name: str, summary: str) -> None:
    async def endpoint(request: Request, response: Response, feedback_id: UUID,
                       ctx: Recorder, version: Version) -> FeedbackOut:
        view = await services(request).feedback.act(ctx, feedback_id, version, name,
                                                    ActionInput())
        return _out(view, response)

    _route(name, summary, endpoint)


def _with(name: str, summary: str, body_type: Any) -> None:
    async def endpoint(request: Request, response: Response, feedback_id: UUID,
                       body: body_type, ctx: Recorder, version: Version) -> FeedbackOut:
        view = await services(request).feedback.act(ctx, feedback_id, version, name,
                                                    ActionInput(**body.model_dump()))
        return _out(view, response)

    endpoint.__annotations__["body"] = body_type  # a closure name, not a module global
    _route(name, summary, endpoint)


_plain("acknowledge", "Acknowledge (受理)")
_plain("start", "Start working on it")
_with("resolve", "Resolve, with what was done", ResolveIn)
_with("confirm", "Record that the customer agrees it is resolved", ConfirmIn)
_with("reopen", "Reopen: back to in progress, with the reason", ReopenIn)


@router.post("/feedback/sla-escalations", response_model=JobOut,
             summary="Announce every SLA clock that ran out")
async def announce_breaches(request: Request, ctx: Scheduler) -> JobOut:
    """For a scheduler (scope `jobs:run`) or `accord escalate`: each breach is announced
    once (`feedback.acknowledge_overdue`, `feedback.resolve_overdue`)."""
    return JobOut(count=await services(request).feedback.announce_breaches(ctx))


policy_setting(
    router, "/settings/feedback-sla", "sla", reader=Reader, writer=Admin,
    body=SlaPolicyIO, out=SlaPolicyOut, domain=SlaPolicy,
    use_cases=lambda s: (s.feedback.sla_setting.get, s.feedback.sla_setting.set),
    summaries=("Feedback SLA: acknowledge and resolve times",
               "Change the feedback SLA (applies to feedback received from now on)"),
    errors=(412, 428))


@router.get("/reports/feedback", response_model=FeedbackReportOut,
            summary="Feedback volumes, SLA compliance, time to acknowledge and resolve",
            responses={200: {"content": {"text/csv": {}}}})
async def report(
    request: Request, ctx: Reporter,
    period: Annotated[Period, Depends(period_params("Received"))],
    department_id: Annotated[UUID | None, Query()] = None,
    format: Format = "json",
) -> Any:
    found = await services(request).feedback.report(ctx, period.since, period.until,
                                                    department_id)
    if format == "csv":
        rows = [(section, key, value) for section, content in found.items()
                for key, value in (content.items() if isinstance(content, dict)
                                   else [("value", content)])]
        return csv_response(("section", "key", "value"), rows, "feedback-report.csv")
    return FeedbackReportOut.model_validate(found)


def _score(s: Score) -> dict[str, Any]:
    return {"metric": s.metric, "estimate": None if s.estimate is None else round(s.estimate, 2),
            "interval": None if s.interval is None else {"low": round(s.interval.low, 2),
                                                         "high": round(s.interval.high, 2)},
            "n": s.n, "low_confidence": s.low_confidence}


def _scores(s: Scores) -> dict[str, Any]:
    return {"nps": _score(s.nps), "csat": _score(s.csat), "ces": _score(s.ces)}


def _satisfaction(report: SatisfactionReport) -> dict[str, Any]:
    shrunk = {metric: {g.key: {"raw": g.raw, "shrunk": g.shrunk, "weight": round(g.weight, 3)}
                       for g in result.groups} for metric, result in report.shrinkage.items()}
    return {
        "overall": _scores(report.overall), "response_rate": report.response_rate.__dict__,
        "by_period": [{"period": p, **_scores(s)} for p, s in report.by_period],
        "segment": report.segment,
        "by_segment": [{"key": g.key, **_scores(g.scores),
                        "shrunk": {m: shrunk[m][g.key] for m in shrunk} or None}
                       for g in report.by_segment],
        "shrinkage": {m: {"overall": r.overall, "k": round(r.k, 2), "k_source": r.k_source,
                          "explanation": r.explanation}
                      for m, r in report.shrinkage.items()}}


@router.get("/reports/satisfaction", response_model=SatisfactionReportOut,
            summary="NPS, CSAT and CES over time and by segment, with 95% intervals",
            responses={200: {"content": {"text/csv": {}}}})
async def satisfaction_report(
    request: Request, ctx: Reporter,
    period: Annotated[Period, Depends(period_params("Answered"))],
    department_id: Annotated[UUID | None, Query()] = None,
    template_id: Annotated[UUID | None, Query(description="One survey")] = None,
    interval: Annotated[Interval, Query()] = Interval.MONTH,
    segment: Annotated[Segment | None, Query(description="owner: per account manager, "
                                                         "shrunk toward the overall mean")]
    = None,
    format: Format = "json",
) -> Any:
    """Every figure carries its n and a low-confidence flag below 30 answers; no answers
    give no estimate (null), never 0."""
    report = await services(request).satisfaction.report(
        ctx, period.since, period.until, department_id, template_id, interval, segment)
    body = _satisfaction(report)
    if format == "csv":
        rows = []
        for label, key, scores in ([("overall", "", body["overall"])]
                                   + [("period", p["period"], p) for p in body["by_period"]]
                                   + [(str(segment), g["key"], g) for g in body["by_segment"]]):
            for metric in ("nps", "csat", "ces"):
                s = scores[metric]
                interval_ = s["interval"] or {}
                rows.append((label, key, metric, s["estimate"], interval_.get("low"),
                             interval_.get("high"), s["n"], s["low_confidence"]))
        return csv_response(("group", "key", "metric", "estimate", "ci95_low", "ci95_high", "n",
                             "low_confidence"), rows, "satisfaction-report.csv")
    return SatisfactionReportOut.model_validate(body)
