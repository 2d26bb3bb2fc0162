"""``/change-requests``: 变更管理 — one POST per workflow action, plus the assessment
panel, implementation tasks, progress, the customer communication log and the review;
``/settings/approval-policy``, ``/settings/business-calendar`` and ``/delegations``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Request, Response
from pydantic import Field

from app.api.container import services
from app.api.contract import acted_by
from app.api.etag import if_match, set_etag
from app.api.idempotency import Idempotent
from app.api.pagination import ListPage, list_page, page_params
from app.api.policy_settings import policy_setting
from app.api.problems import error_responses
from app.api.security import allow, signed_in
from app.api.v1.routing import feature_router
from app.api.v1.schemas.base import Output
from app.api.v1.schemas.change_requests import (
    ActivityOut,
    ApprovalPolicyIO,
    ApprovalPolicyOut,
    AssessmentIn,
    CalendarIO,
    CalendarOut,
    ChangeRequestCreate,
    ChangeRequestOut,
    ChangeRequestPatch,
    ChangeRequestSummary,
    CommunicationIn,
    ConclusionIn,
    CustomerInputIn,
    DelegationIn,
    DelegationOut,
    ProgressIn,
    ReviewIn,
    TaskIn,
    TaskStatusIn,
    TransitionIn,
)
from app.domain.access.roles import READ_ONLY, Role, Scope
from app.domain.change_requests.approval_policy import ApprovalPolicy
from app.domain.change_requests.model import (
    Assessment,
    ChangeRequest,
    Conclusion,
    CRState,
    CRType,
)
from app.domain.change_requests.workflow import ACTIONS, Party
from app.domain.common.calendar import BusinessCalendar
from app.domain.common.paging import PageRequest
from app.services.change_requests import (
    DraftInput,
    ReviewInput,
    View,
)
from app.services.ports import RequestContext
from app.services.ports.change_requests import ChangeRequestFilter

router = feature_router("change requests")

REQUESTER_ROLES = (Role.ADMIN, Role.DEPARTMENT_HEAD, Role.ACCOUNT_MANAGER)
# Who may take a workflow action is decided per change by the workflow table; an endpoint
# admits the roles its parties can hold, so a role that could never take the action is
# refused (403) before any change's state is looked at. Approvers hold the role of an
# approval step (approval_policy.approval_chain), as their deputies must.
PARTY_ROLES: dict[Party, tuple[Role, ...]] = {
    Party.REQUESTER: REQUESTER_ROLES,
    Party.PROJECT_MANAGER: (Role.PROJECT_MANAGER,),
    Party.APPROVER: (Role.DEPARTMENT_HEAD, Role.FINANCE, Role.EXECUTIVE),
    Party.DEPARTMENT_HEAD: (Role.DEPARTMENT_HEAD,),
    Party.ADMIN: (Role.ADMIN,),
}

Reader = Annotated[RequestContext, Depends(allow(*Role))]
Requester = Annotated[RequestContext, Depends(allow(*REQUESTER_ROLES))]
# Whoever implements the change (records.check_implementer): its requester or a project
# manager; they plan tasks, report progress and record the review.
Implementer = Annotated[RequestContext, Depends(allow(*REQUESTER_ROLES, Role.PROJECT_MANAGER))]
# Any role that writes: who records a customer input, or a task's assignee (any user).
Writer = Annotated[RequestContext, Depends(allow(*sorted(set(Role) - READ_ONLY)))]
Admin = Annotated[RequestContext, Depends(allow(Role.ADMIN))]
ProjectManager = Annotated[RequestContext, Depends(allow(Role.PROJECT_MANAGER))]
Version = Annotated[int, Depends(if_match)]


def taken_by(endpoint: Callable[..., Any], action: str) -> None:
    """Declares who may call a workflow action's endpoint (its ``ctx``): the roles the
    action's parties can hold."""
    roles = {role for party in ACTIONS[action].parties for role in PARTY_ROLES[party]}
    endpoint.__annotations__["ctx"] = Annotated[RequestContext, Depends(allow(*sorted(roles)))]


CHANGE_ERRORS = error_responses(404, 409, 412, 428)
BASE = "/change-requests/{cr_id}"


def _out(request: Request, response: Response | None, view: View) -> ChangeRequestOut:
    cr = view.cr
    if response is not None:
        set_etag(response, cr.version)
    return ChangeRequestOut.model_validate({
        **cr.__dict__, "risk_level": cr.risk_level.label if cr.risk_level else None,
        "assessments": [a.__dict__ for a in cr.assessments],
        "approval_steps": [{**s.__dict__, "overdue": s.id in view.overdue_steps}
                           for s in cr.steps],
        "tasks": [t.__dict__ for t in cr.tasks], "overdue": view.overdue,
        "allowed_actions": view.allowed_actions})


def _summary(cr: ChangeRequest) -> ChangeRequestSummary:
    return ChangeRequestSummary.model_validate(cr.__dict__)


def _form(body: ChangeRequestCreate | ChangeRequestPatch) -> DraftInput:
    sent = frozenset(body.model_fields_set - {"customer_id"})
    values = {name: getattr(body, name) for name in sent}
    if "attachments" in values:
        values["attachments"] = tuple(a.model_dump() for a in body.attachments)
    return DraftInput(**values, fields_set=sent)


@router.post("/change-requests", response_model=ChangeRequestOut, status_code=201,
             summary="Draft a change request (变更申请)", dependencies=[Idempotent],
             responses=error_responses(409))
async def create(request: Request, response: Response, body: ChangeRequestCreate,
                 ctx: Requester) -> ChangeRequestOut:
    view = await services(request).change_requests.create(ctx, body.customer_id, _form(body))
    response.headers["Location"] = f"/api/v1/change-requests/{view.cr.id}"
    return _out(request, response, view)


@router.get("/change-requests", response_model=ListPage[ChangeRequestSummary],
            summary="List change requests in your scope")
async def list_change_requests(
    request: Request, ctx: Reader,
    page: Annotated[PageRequest, Depends(page_params(["updated_at", "created_at"],
                                                     "-updated_at"))],
    state: Annotated[CRState | None, Query()] = None,
    type: Annotated[CRType | None, Query()] = None,
    customer_id: Annotated[UUID | None, Query()] = None,
    requester_id: Annotated[UUID | None, Query()] = None,
    department_id: Annotated[UUID | None, Query()] = None,
    overdue: Annotated[bool, Query(description="Only those with an overdue approval step")]
    = False,
    awaiting_role: Annotated[Role | None, Query(description=(
        "Only those whose current approval step needs this role"))] = None,
) -> dict[str, object]:
    filters = ChangeRequestFilter(state=state, type=type, customer_id=customer_id,
                                  requester_id=requester_id, department_id=department_id,
                                  awaiting_role=awaiting_role)
    result = await services(request).change_requests.list(ctx, filters, page,
                                                           overdue_only=overdue)
    return list_page(request, result, page, _summary)


@router.get(BASE, response_model=ChangeRequestOut, summary="Read a change request",
            responses=error_responses(404))
async def get(request: Request, response: Response, cr_id: UUID,
              ctx: Reader) -> ChangeRequestOut:
    return _out(request, response, await services(request).change_requests.get(ctx, cr_id))


@router.patch(BASE, response_model=ChangeRequestOut,
              summary="Edit the form (draft or returned, requester only)",
              responses=CHANGE_ERRORS)
async def update(request: Request, response: Response, cr_id: UUID, body: ChangeRequestPatch,
                 ctx: Requester, version: Version) -> ChangeRequestOut:
    view = await services(request).change_requests.update_draft(ctx, cr_id, version,
                                                                 _form(body))
    return _out(request, response, view)


@router.get(BASE + "/activity", response_model=ActivityOut,
            summary="Customer input, progress updates and communication log",
            responses=error_responses(404))
async def activity(request: Request, cr_id: UUID, ctx: Reader) -> ActivityOut:
    return ActivityOut(**await services(request).change_requests.activity(ctx, cr_id))


def _action(name: str, summary: str) -> None:
    """One POST per workflow action: If-Match, Idempotency-Key, optional comment."""

    async def endpoint(request: Request, response: Response, cr_id: UUID, body: TransitionIn,
                       ctx: RequestContext, version: Version) -> ChangeRequestOut:
        view = await services(request).change_requests.transition(ctx, cr_id, version, name,
                                                                   body.comment)
        return _out(request, response, view)

    endpoint.__name__ = name
    taken_by(endpoint, name)
    router.post(f"{BASE}/{name.replace('_', '-')}", response_model=ChangeRequestOut,
                summary=summary, responses=CHANGE_ERRORS, dependencies=[Idempotent],
                name=name, openapi_extra=acted_by(ACTIONS[name].parties))(endpoint)


for _name, _summary_text in (
    ("submit", "Submit (checks the form is complete)"),
    ("start_assessment", "Start the assessment (project manager)"),
    ("return_from_assessment", "Return to the requester during assessment"),
    ("start_implementation", "Start implementing an approved change"),
    ("complete_implementation", "Mark implemented (all tasks done or waived)"),
    ("review_emergency", "Department head's review of an emergency change"),
    ("close", "Close after the review"),
    ("cancel", "Cancel (before implementation)"),
):
    _action(_name, _summary_text)


def _decision(name: str, summary: str) -> None:
    """变更审批: decide one step of the chain; steps are decided in order."""

    async def endpoint(request: Request, response: Response, cr_id: UUID, step_id: UUID,
                       body: TransitionIn, ctx: RequestContext,
                       version: Version) -> ChangeRequestOut:
        view = await services(request).change_requests.transition(
            ctx, cr_id, version, name, body.comment, step_id=step_id)
        return _out(request, response, view)

    endpoint.__name__ = f"{name}_step"
    taken_by(endpoint, name)
    router.post(f"{BASE}/approvals/{{step_id}}/{name}", response_model=ChangeRequestOut,
                summary=summary, responses=CHANGE_ERRORS, dependencies=[Idempotent],
                name=f"{name}_step", openapi_extra=acted_by(ACTIONS[name].parties))(endpoint)


for _name, _summary_text in (
    ("approve", "Approve an approval step"),
    ("reject", "Reject at an approval step (final)"),
    ("return", "Return to the requester for revision"),
):
    _decision(_name, _summary_text)


@router.post(BASE + "/conclude-assessment", response_model=ChangeRequestOut,
             summary="Conclude the assessment with the final estimates (project manager)",
             responses=CHANGE_ERRORS, dependencies=[Idempotent],
             openapi_extra=acted_by(ACTIONS["conclude_assessment"].parties))
async def conclude(request: Request, response: Response, cr_id: UUID, body: ConclusionIn,
                   ctx: ProjectManager, version: Version) -> ChangeRequestOut:
    """The approval chain follows from the estimates by the approval policy."""
    conclusion = Conclusion(cost=body.cost, currency=body.currency,
                            schedule_days=body.schedule_days, likelihood=body.likelihood,
                            impact=body.impact, recommendation=body.recommendation,
                            summary=body.summary)
    view = await services(request).change_requests.transition(
        ctx, cr_id, version, "conclude_assessment", body.comment, conclusion)
    return _out(request, response, view)


@router.post(BASE + "/assessments", response_model=ChangeRequestOut, status_code=201,
             summary="Record your assessment (project manager or tech expert)",
             responses=CHANGE_ERRORS, dependencies=[Idempotent])
async def assess(request: Request, response: Response, cr_id: UUID, body: AssessmentIn,
                 ctx: Annotated[RequestContext, Depends(allow(Role.PROJECT_MANAGER,
                                                              Role.TECH_EXPERT))]
                 ) -> ChangeRequestOut:
    view = await services(request).change_requests.add_assessment(
        ctx, cr_id, Assessment(**body.model_dump()))
    return _out(request, response, view)


@router.post(BASE + "/customer-inputs", response_model=ChangeRequestOut, status_code=201,
             summary="Record the customer representative's opinion",
             responses=CHANGE_ERRORS, dependencies=[Idempotent])
async def customer_input(request: Request, response: Response, cr_id: UUID,
                         body: CustomerInputIn, ctx: Writer) -> ChangeRequestOut:
    view = await services(request).change_requests.add_customer_input(
        ctx, cr_id, body.contact_id, body.opinion)
    return _out(request, response, view)


@router.post(BASE + "/tasks", response_model=ChangeRequestOut, status_code=201,
             summary="Add an implementation task", responses=CHANGE_ERRORS,
             dependencies=[Idempotent])
async def add_task(request: Request, response: Response, cr_id: UUID, body: TaskIn,
                   ctx: Implementer) -> ChangeRequestOut:
    view = await services(request).change_requests.add_task(ctx, cr_id, body.title,
                                                             body.assignee_id, body.due_date)
    return _out(request, response, view)


@router.post(BASE + "/tasks/{task_id}/status", response_model=ChangeRequestOut,
             summary="Move a task (waiving needs a reason); If-Match: the task's version",
             responses=CHANGE_ERRORS, dependencies=[Idempotent])
async def task_status(request: Request, response: Response, cr_id: UUID, task_id: UUID,
                      body: TaskStatusIn, ctx: Writer, version: Version) -> ChangeRequestOut:
    view = await services(request).change_requests.set_task_status(
        ctx, cr_id, task_id, version, body.status, body.waive_reason)
    return _out(request, response, view)


@router.post(BASE + "/progress", response_model=ChangeRequestOut, status_code=201,
             summary="Report progress (percent and note)", responses=CHANGE_ERRORS,
             dependencies=[Idempotent])
async def progress(request: Request, response: Response, cr_id: UUID, body: ProgressIn,
                   ctx: Implementer) -> ChangeRequestOut:
    view = await services(request).change_requests.add_progress(ctx, cr_id, body.percent,
                                                                body.note)
    return _out(request, response, view)


@router.post(BASE + "/communications", response_model=ChangeRequestOut, status_code=201,
             summary="Log what was reported to the customer (及时汇报进展)",
             responses=CHANGE_ERRORS, dependencies=[Idempotent])
async def communication(request: Request, response: Response, cr_id: UUID,
                        body: CommunicationIn, ctx: Implementer) -> ChangeRequestOut:
    view = await services(request).change_requests.add_communication(
        ctx, cr_id, body.contact_id, body.channel, body.summary, body.reported_at)
    return _out(request, response, view)


@router.post(BASE + "/review", response_model=ChangeRequestOut,
             summary="Record the review (goals, actuals, satisfaction, lessons)",
             responses=CHANGE_ERRORS, dependencies=[Idempotent])
async def review(request: Request, response: Response, cr_id: UUID, body: ReviewIn,
                 ctx: Implementer, version: Version) -> ChangeRequestOut:
    view = await services(request).change_requests.record_review(
        ctx, cr_id, version, ReviewInput(**body.model_dump()))
    return _out(request, response, view)


class ApprovalEscalationOut(Output):
    escalated: int = Field(description="Overdue steps escalated by this run")


@router.post("/change-requests/escalations", response_model=ApprovalEscalationOut,
             summary="Raise the escalation event of every overdue approval step")
async def escalate(request: Request, ctx: Annotated[RequestContext, Depends(allow(
        Role.ADMIN, scopes=(Scope.JOBS_RUN,)))]) -> ApprovalEscalationOut:
    """For a scheduler (an API key with scope `jobs:run`) or `accord escalate`: each
    overdue step is escalated once (`change_request.approval_overdue`), however often this
    runs and from however many processes."""
    count = await services(request).change_requests.escalate_overdue(ctx)
    return ApprovalEscalationOut(escalated=count)


# policies and delegations --------------------------------------------------------------

def _calendar(body: CalendarIO) -> BusinessCalendar:
    data = body.model_dump(mode="json")
    for key in ("day_start", "day_end"):
        time.fromisoformat(data[key])  # validated shape; domain checks the order
    return BusinessCalendar.from_dict(data)


policy_setting(
    router, "/settings/approval-policy", "policy", reader=Reader, writer=Admin,
    body=ApprovalPolicyIO, out=ApprovalPolicyOut,
    use_cases=lambda s: (s.approval_policy.get, s.approval_policy.set),
    to_domain=lambda body: ApprovalPolicy.from_dict({
        **body.model_dump(), "finance_from": body.finance_from,
        "executive_from": body.executive_from}),
    summaries=("When finance and executives must approve", "Change the approval policy"))
policy_setting(
    router, "/settings/business-calendar", "calendar", reader=Reader, writer=Admin,
    body=CalendarIO, out=CalendarOut,
    use_cases=lambda s: (s.business_calendar.get, s.business_calendar.set),
    to_domain=_calendar,
    summaries=("Working days and hours, holidays and company days off",
               "Change the business calendar"))


@router.post("/delegations", response_model=DelegationOut, status_code=201,
             summary="Name a deputy while you are away", dependencies=[Idempotent],
             responses=error_responses(409))
async def delegate(request: Request, body: DelegationIn,
                   ctx: Annotated[RequestContext, Depends(signed_in())]) -> DelegationOut:
    created = await services(request).delegations.create(
        ctx, body.delegator_id, body.deputy_id, body.role, body.starts_at, body.ends_at)
    return DelegationOut.model_validate(created)


@router.get("/delegations", response_model=list[DelegationOut],
            summary="Your delegations (admins: everyone's, newest 200)")
async def delegations(request: Request,
                      ctx: Annotated[RequestContext, Depends(signed_in())]
                      ) -> list[DelegationOut]:
    found = await services(request).delegations.list(ctx)
    return [DelegationOut.model_validate(d) for d in found]


@router.post("/delegations/{delegation_id}/revoke", status_code=204,
             summary="End a delegation early", responses=error_responses(404, 409),
             dependencies=[Idempotent])
async def revoke(request: Request, delegation_id: UUID,
                 ctx: Annotated[RequestContext, Depends(signed_in())]) -> Response:
    await services(request).delegations.revoke(ctx, delegation_id)
    return Response(status_code=204)

