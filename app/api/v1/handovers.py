"""``/handovers``: 客户移交 — start (one customer or a manager's whole book), notify,
prepare and verify the checklist, meet, sign (the last signature transfers), follow up;
the handover report, ``/reports/handovers`` and ``/settings/handover-standard``."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Request, Response

from app.api.container import services
from app.api.contract import acted_by
from app.api.etag import if_match, optional_if_match, set_etag
from app.api.idempotency import Idempotent
from app.api.pagination import ListPage, list_page, page_params
from app.api.period import Period, period_params
from app.api.policy_settings import policy_setting
from app.api.problems import error_responses
from app.api.report_figures import figure_bodies
from app.api.security import allow
from app.api.v1.routing import feature_router
from app.api.v1.schemas.handovers import (
    BatchCreate,
    BatchOut,
    CancelIn,
    FindingIn,
    FollowUpEscalationOut,
    FollowUpIn,
    HandoverCreate,
    HandoverOut,
    HandoverReportOut,
    HandoverSummary,
    MeetingIn,
    NotificationIn,
    ReportOut,
    ResolutionIn,
    StandardIO,
    StandardOut,
)
from app.domain.access.roles import Role, Scope
from app.domain.common.paging import PageRequest
from app.domain.handovers.model import HandoverState
from app.domain.handovers.standard import HandoverStandard
from app.domain.handovers.workflow import ACTIONS
from app.services.handovers import FollowUpInput, MeetingInput, NewHandover, View
from app.services.ports import RequestContext
from app.services.ports.handovers import HandoverFilter

router = feature_router("handovers")

# Who acts on a given handover is decided by its workflow table; these are the roles
# that can appear in it at all.
Actor = Annotated[RequestContext, Depends(allow(Role.ACCOUNT_MANAGER, Role.DEPARTMENT_HEAD,
                                                Role.ADMIN))]
Reporter = Annotated[RequestContext, Depends(allow(Role.ADMIN, Role.EXECUTIVE, Role.ANALYST,
                                                   Role.DEPARTMENT_HEAD))]
# Anyone may ask; who is not a party to a handover finds nothing (404, or an empty list).
Reader = Annotated[RequestContext, Depends(allow(*Role))]
Admin = Annotated[RequestContext, Depends(allow(Role.ADMIN))]
# Every action on a handover takes If-Match. It is required where the action moves the
# handover's state or signs; adding a record to it (a notification, a verification, a
# finding, a resolution) takes it optionally, so the two managers verifying side by side
# do not refuse each other, while a client that sends it is refused a stale view (412).
Version = Annotated[int, Depends(if_match)]
OptionalVersion = Annotated[int | None, Depends(optional_if_match)]
ERRORS = error_responses(404, 409, 412, 428)


def _acts(action: str) -> dict[str, Any]:
    """The action's parties (the workflow table's), said in its documentation."""
    return acted_by(ACTIONS[action].parties)

BASE = "/handovers/{handover_id}"


def _summary_values(view: View) -> dict[str, Any]:
    h = view.handover
    return {**h.__dict__, "risk_level": h.risk.level, "allowed_actions": view.allowed_actions,
            "follow_up_overdue": view.follow_up_overdue,
            "transfer_overdue": view.transfer_overdue}


def _detail(view: View) -> HandoverOut:
    h = view.handover
    return HandoverOut.model_validate({
        **_summary_values(view), "risk": h.risk, "steps": view.steps,
        "checklist": [{**i.__dict__, "verified_by_both": i.verified_by_both} for i in h.items],
        "findings": h.findings, "signatures": h.signatures,
        "missing_signatures": h.missing_signatures(), "notifications": h.notifications})


def _out(response: Response, view: View) -> HandoverOut:
    set_etag(response, view.handover.version)
    return _detail(view)


def _new(body: HandoverCreate | BatchCreate) -> NewHandover:
    return NewHandover(to_manager_id=body.to_manager_id, reason=body.reason,
                       planned_date=body.planned_date, note=body.note)


@router.post("/handovers", response_model=HandoverOut, status_code=201,
             summary="Start the handover of one customer", dependencies=[Idempotent],
             responses=error_responses(404, 409))
async def start(request: Request, response: Response, body: HandoverCreate,
                ctx: Actor) -> HandoverOut:
    """The level (strict / standard / light), the risk and its factors and the materials
    checklist are worked out from the customer's data at once."""
    view = await services(request).handovers.start(ctx, body.customer_id, _new(body))
    response.headers["Location"] = f"/api/v1/handovers/{view.handover.id}"
    return _out(response, view)


@router.post("/handovers/batches", response_model=BatchOut, status_code=201,
             summary="Hand over all customers of a manager (e.g. on resignation)",
             dependencies=[Idempotent], responses=error_responses(409))
async def start_batch(request: Request, body: BatchCreate, ctx: Actor) -> BatchOut:
    batch = await services(request).handovers.start_batch(ctx, body.from_manager_id,
                                                          _new(body))
    return BatchOut.model_validate({**batch.__dict__,
                                    "handovers": [_detail(v) for v in batch.handovers]})


@router.get("/handovers", response_model=ListPage[HandoverSummary],
            summary="Handovers you take part in (heads: your department's)")
async def list_handovers(
    request: Request, ctx: Reader,
    page: Annotated[PageRequest, Depends(page_params(["updated_at", "created_at"],
                                                     "-updated_at"))],
    state: Annotated[HandoverState | None, Query()] = None,
    open: Annotated[bool, Query(description="Only those not yet transferred or cancelled")]
    = False,
    customer_id: Annotated[UUID | None, Query()] = None,
    batch_id: Annotated[UUID | None, Query()] = None,
    manager_id: Annotated[UUID | None, Query(description="Handing over or receiving")] = None,
    department_id: Annotated[UUID | None, Query()] = None,
    follow_up_overdue: Annotated[bool, Query(description="Only transferred handovers whose "
                                                         "follow-up is past due")] = False,
) -> dict[str, object]:
    svc = services(request).handovers
    today = await svc.today(ctx) if follow_up_overdue else None
    filters = HandoverFilter(state=state, open_only=open, customer_id=customer_id,
                             batch_id=batch_id, manager_id=manager_id,
                             department_id=department_id, follow_up_overdue_on=today)
    result = await svc.list(ctx, filters, page)
    return list_page(request, result, page,
                     lambda v: HandoverSummary.model_validate(_summary_values(v)))


@router.get(BASE, response_model=HandoverOut, summary="Read a handover",
            responses=error_responses(404))
async def get(request: Request, response: Response, handover_id: UUID,
              ctx: Reader) -> HandoverOut:
    return _out(response, await services(request).handovers.get(ctx, handover_id))


@router.get(BASE + "/report", response_model=ReportOut, summary="The handover report",
            responses=error_responses(404))
async def get_report(request: Request, handover_id: UUID, ctx: Reader) -> ReportOut:
    """Materials, verifications, findings, signatures, the risk and its factors, the
    follow-up and what moved with the customer."""
    found = await services(request).handovers.report(ctx, handover_id)
    return ReportOut(handover=_detail(found["view"]), durations=found["durations"])


@router.post(BASE + "/notifications", response_model=HandoverOut, status_code=201,
             summary="Record that a stakeholder was told (通知)", responses=ERRORS,
             dependencies=[Idempotent], openapi_extra=_acts("record_notification"))
async def notification(request: Request, response: Response, handover_id: UUID,
                       body: NotificationIn, ctx: Actor,
                       version: OptionalVersion) -> HandoverOut:
    view = await services(request).handovers.record_notification(
        ctx, handover_id, body.stakeholder, body.channel, body.contact_id, body.note, version)
    return _out(response, view)


def _transition(name: str, summary: str) -> None:
    async def endpoint(request: Request, response: Response, handover_id: UUID, ctx: Actor,
                       version: Version) -> HandoverOut:
        view = await services(request).handovers.transition(ctx, handover_id, version, name)
        return _out(response, view)

    endpoint.__name__ = name
    router.post(f"{BASE}/{name.replace('_', '-')}", response_model=HandoverOut,
                summary=summary, responses=ERRORS, dependencies=[Idempotent],
                name=name, openapi_extra=_acts(name))(endpoint)


_transition("notify", "Stakeholders are notified (checks the level's list)")
_transition("start_preparation", "Start preparing the materials")


@router.post(BASE + "/meeting", response_model=HandoverOut, summary="Record the handover meeting",
             responses=ERRORS, dependencies=[Idempotent], openapi_extra=_acts("hold_meeting"))
async def meeting(request: Request, response: Response, handover_id: UUID, body: MeetingIn,
                  ctx: Actor, version: Version) -> HandoverOut:
    view = await services(request).handovers.transition(
        ctx, handover_id, version, "hold_meeting",
        meeting=MeetingInput(body.held_on, body.attendees, body.minutes))
    return _out(response, view)


@router.post(BASE + "/checklist/{item}/verify", response_model=HandoverOut,
             summary="Verify a material for your side (核对)", responses=ERRORS,
             dependencies=[Idempotent], openapi_extra=_acts("verify"))
async def verify(request: Request, response: Response, handover_id: UUID, item: str,
                 ctx: Actor, version: OptionalVersion) -> HandoverOut:
    return _out(response, await services(request).handovers.verify(ctx, handover_id, item,
                                                                   version))


@router.post(BASE + "/findings", response_model=HandoverOut, status_code=201,
             summary="Raise a finding on a material (blocks sign-off)", responses=ERRORS,
             dependencies=[Idempotent], openapi_extra=_acts("raise_finding"))
async def raise_finding(request: Request, response: Response, handover_id: UUID,
                        body: FindingIn, ctx: Actor, version: OptionalVersion) -> HandoverOut:
    view = await services(request).handovers.raise_finding(ctx, handover_id, body.item,
                                                           body.text, version)
    return _out(response, view)


@router.post(BASE + "/findings/{finding_id}/resolve", response_model=HandoverOut,
             summary="Resolve a finding", responses=ERRORS, dependencies=[Idempotent],
             openapi_extra=_acts("resolve_finding"))
async def resolve_finding(request: Request, response: Response, handover_id: UUID,
                          finding_id: UUID, body: ResolutionIn, ctx: Actor,
                          version: OptionalVersion) -> HandoverOut:
    view = await services(request).handovers.resolve_finding(ctx, handover_id, finding_id,
                                                             body.resolution, version)
    return _out(response, view)


@router.post(BASE + "/sign", response_model=HandoverOut, summary="Sign the handover",
             responses=ERRORS, dependencies=[Idempotent], openapi_extra=_acts("sign"))
async def sign(request: Request, response: Response, handover_id: UUID, ctx: Actor,
               version: Version) -> HandoverOut:
    """Your signature for your role in this handover; the last signature the level
    requires transfers the customer, its open change requests, tasks and risks in one
    transaction."""
    return _out(response, await services(request).handovers.sign(ctx, handover_id, version))


@router.post(BASE + "/follow-up", response_model=HandoverOut,
             summary="Record the follow-up contact (receiving manager)", responses=ERRORS,
             dependencies=[Idempotent], openapi_extra=_acts("follow_up"))
async def follow_up(request: Request, response: Response, handover_id: UUID, body: FollowUpIn,
                    ctx: Actor, version: Version) -> HandoverOut:
    view = await services(request).handovers.transition(
        ctx, handover_id, version, "follow_up",
        follow_up=FollowUpInput(body.contacted_on, body.channel, body.outcome))
    return _out(response, view)


@router.post(BASE + "/cancel", response_model=HandoverOut, summary="Cancel before transfer",
             responses=ERRORS, dependencies=[Idempotent], openapi_extra=_acts("cancel"))
async def cancel(request: Request, response: Response, handover_id: UUID, body: CancelIn,
                 ctx: Actor, version: Version) -> HandoverOut:
    view = await services(request).handovers.transition(ctx, handover_id, version, "cancel",
                                                        reason=body.reason)
    return _out(response, view)


@router.post("/handovers/follow-up-escalations", response_model=FollowUpEscalationOut,
             summary="Announce every follow-up past its due day")
async def escalate(request: Request, ctx: Annotated[RequestContext, Depends(allow(
        Role.ADMIN, scopes=(Scope.JOBS_RUN,)))]) -> FollowUpEscalationOut:
    """For a scheduler (scope `jobs:run`) or `accord escalate`: each overdue follow-up is
    announced once (`handover.follow_up_overdue`)."""
    count = await services(request).handovers.escalate_overdue_follow_ups(ctx)
    return FollowUpEscalationOut(escalated=count)


@router.get("/reports/handovers", response_model=HandoverReportOut,
            summary="Handover figures by department and month")
async def report(
    request: Request, ctx: Reporter,
    period: Annotated[Period, Depends(period_params("Created"))],
    department_id: Annotated[UUID | None, Query()] = None,
) -> HandoverReportOut:
    """Count, median days to transfer, findings per handover and overdue follow-ups;
    outcomes: churn within 90 days of the transfer (over transfers whose 90 days have
    passed; `so_far` counts every transfer), CSAT and NPS in the 90 days before against the
    90 days after the transfer over the customers answered on both sides, findings per
    checklist item. Department heads see their own department."""
    found = await services(request).handovers.summary(ctx, period.since, period.until,
                                                      department_id)
    return HandoverReportOut.model_validate({**found,
                                             "outcomes": figure_bodies(found["outcomes"])})


policy_setting(
    router, "/settings/handover-standard", "standard", reader=Actor, writer=Admin,
    body=StandardIO, out=StandardOut, domain=HandoverStandard,
    use_cases=lambda s: (s.handovers.standard_setting.get, s.handovers.standard_setting.set),
    summaries=("The handover standard (移交标准): levels and follow-up deadlines",
               "Change the handover standard"))
