"""``/survey-templates``, ``/survey-invitations``: 满意度调查 — templates, invitations with
single-use tokens, the automatic invitations' scheduler hook and its setting; and the
public, unauthenticated answer page ``/public/surveys/{token}``."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Request, Response
from fastapi.responses import HTMLResponse

from app.api import report_page, survey_page
from app.api.container import services
from app.api.etag import if_match, set_etag
from app.api.i18n import pick_language
from app.api.idempotency import Idempotent
from app.api.pagination import ListPage, list_page, page_params
from app.api.policy_settings import policy_setting
from app.api.problems import STATUS_BY_KIND, error_responses
from app.api.security import allow, public
from app.api.v1.routing import feature_router
from app.api.v1.schemas.surveys import (
    AutomationIO,
    AutomationOut,
    AutomationRunOut,
    InvitationCreate,
    InvitationOut,
    IssuedOut,
    PublicSurveyOut,
    ResponseIn,
    TemplateCreate,
    TemplateOut,
)
from app.domain.access.roles import Role, Scope
from app.domain.common.errors import InvalidInput
from app.domain.common.paging import PageRequest
from app.domain.surveys.model import (
    AlreadyAnswered,
    Automation,
    InvitationClosed,
    InvitationUnknown,
    Question,
    Template,
    answers_from_form,
)
from app.services.ports import RequestContext
from app.services.surveys import PublicSurvey

router = feature_router("surveys")

Reader = Annotated[RequestContext, Depends(allow(*Role))]
Inviter = Annotated[RequestContext, Depends(allow(Role.ADMIN, Role.DEPARTMENT_HEAD,
                                                  Role.ACCOUNT_MANAGER))]
Admin = Annotated[RequestContext, Depends(allow(Role.ADMIN))]
Anyone = Annotated[RequestContext, Depends(public())]
Version = Annotated[int, Depends(if_match)]


def _template(template: Template) -> TemplateOut:
    return TemplateOut.model_validate({
        **template.__dict__, "questions": [{**q.__dict__, "options": list(q.options)}
                                           for q in template.questions]})


@router.post("/survey-templates", response_model=TemplateOut, status_code=201,
             summary="Create a survey template", dependencies=[Idempotent],
             responses=error_responses(409))
async def create_template(request: Request, response: Response, body: TemplateCreate,
                          ctx: Admin) -> TemplateOut:
    questions = [Question(q.id, q.kind, q.text, tuple(q.options), q.required)
                 for q in body.questions]
    template = await services(request).surveys.create_template(ctx, body.name, questions)
    response.headers["Location"] = f"/api/v1/survey-templates/{template.id}"
    set_etag(response, template.version)
    return _template(template)


@router.get("/survey-templates", response_model=ListPage[TemplateOut],
            summary="List survey templates")
async def list_templates(
    request: Request, ctx: Reader,
    page: Annotated[PageRequest, Depends(page_params(["created_at"], "-created_at"))],
    include_archived: Annotated[bool, Query()] = False,
) -> dict[str, object]:
    found = await services(request).surveys.templates(ctx, include_archived, page)
    return list_page(request, found, page, _template)


@router.get("/survey-templates/{template_id}", response_model=TemplateOut,
            summary="Read a survey template", responses=error_responses(404))
async def get_template(request: Request, response: Response, template_id: UUID,
                       ctx: Reader) -> TemplateOut:
    template = await services(request).surveys.template(ctx, template_id)
    set_etag(response, template.version)
    return _template(template)


@router.post("/survey-templates/{template_id}/archive", response_model=TemplateOut,
             summary="Archive a template (no new invitations)",
             responses=error_responses(404, 409, 412, 428), dependencies=[Idempotent])
async def archive_template(request: Request, response: Response, template_id: UUID,
                           ctx: Admin, version: Version) -> TemplateOut:
    template = await services(request).surveys.archive_template(ctx, template_id, version)
    set_etag(response, template.version)
    return _template(template)


@router.post("/survey-invitations", response_model=IssuedOut, status_code=201,
             summary="Invite a customer's contact to answer a survey")
async def invite(request: Request, response: Response, body: InvitationCreate,
                 ctx: Inviter) -> IssuedOut:
    """The token is in this answer only (the service keeps its hash), so no Idempotency-Key:
    a replay would have to keep the token. A retry sends another invitation; revoke the
    one that was not received. The delivery of the invitation is a logged stub for now
    (see the README)."""
    response.headers["Cache-Control"] = "no-store"
    issued = await services(request).surveys.invite(ctx, body.template_id, body.customer_id,
                                                    body.contact_id, body.expires_in_days)
    return IssuedOut.model_validate({**issued.invitation.__dict__, "token": issued.token,
                                     "link": issued.link})


@router.get("/survey-invitations", response_model=ListPage[InvitationOut],
            summary="Invitations to customers in your scope")
async def list_invitations(
    request: Request, ctx: Reader,
    page: Annotated[PageRequest, Depends(page_params(["created_at"], "-created_at"))],
    template_id: Annotated[UUID | None, Query()] = None,
    customer_id: Annotated[UUID | None, Query()] = None,
) -> dict[str, object]:
    found = await services(request).surveys.invitations(ctx, template_id, customer_id, page)
    return list_page(request, found, page, InvitationOut.model_validate)


@router.post("/survey-invitations/{invitation_id}/revoke", response_model=InvitationOut,
             summary="Revoke an invitation (its link stops working)",
             responses=error_responses(404, 409), dependencies=[Idempotent])
async def revoke(request: Request, invitation_id: UUID, ctx: Inviter) -> InvitationOut:
    return InvitationOut.model_validate(
        await services(request).surveys.revoke(ctx, invitation_id))


@router.post("/survey-invitations/automatic", response_model=AutomationRunOut,
             summary="Send the automatic invitations that are due")
async def run_automation(request: Request, ctx: Annotated[RequestContext, Depends(allow(
        Role.ADMIN, scopes=(Scope.JOBS_RUN,)))]) -> AutomationRunOut:
    """For a scheduler (scope `jobs:run`) or `accord escalate`: the primary contact of each
    customer whose change closed, or whose strict handover reached its 30-day mark, is
    invited once."""
    return AutomationRunOut(invited=await services(request).surveys.run_automation(ctx))


policy_setting(
    router, "/settings/survey-automation", "automation", reader=Reader, writer=Admin,
    body=AutomationIO, out=AutomationOut, domain=Automation,
    use_cases=lambda s: (s.surveys.automation, s.surveys.set_automation),
    summaries=("Which templates the automatic invitations use",
               "Change the automatic invitations"), errors=(412, 428))


# the public page ----------------------------------------------------------------------

TOKEN_ERRORS = error_responses(404, 410, 429)
# What a browser is told as a page rather than a problem document.
LINK_REFUSED = (InvitationUnknown, InvitationClosed, AlreadyAnswered)


def _public_out(found: PublicSurvey) -> PublicSurveyOut:
    return PublicSurveyOut.model_validate({
        "name": found.name, "expires_at": found.expires_at,
        "questions": [{**q.__dict__, "options": list(q.options)} for q in found.questions]})


def _as_pages(responses: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """A refused link or answer comes back to a browser's form post as a page: those
    statuses are documented as HTML too."""
    return {status: {**entry, "content": {**entry["content"], "text/html": {}}}
            if status in (404, 409, 410, 422) else entry
            for status, entry in responses.items()}


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers={"Vary": "Accept, Accept-Language"})


@router.get("/public/surveys/{token}", response_model=PublicSurveyOut,
            summary="Read a survey's questions (no account; the token is the key)",
            responses={**_as_pages(TOKEN_ERRORS), 200: {"content": {"text/html": {}}}})
async def public_survey(request: Request, token: str, ctx: Anyone) -> Any:
    """Reveals the survey's name and questions only; attempts are rate limited per
    address. A browser (Accept: text/html first) gets the answer form as a plain HTML page
    in zh-CN or English by Accept-Language; a refused link is a page with the same status."""
    if not report_page.wants_html(request.headers.get("accept")):
        return _public_out(await services(request).surveys.public_read(ctx, token[:200]))
    lang = pick_language(request.headers.get("accept-language"))
    try:
        found = await services(request).surveys.public_read(ctx, token[:200])
    except LINK_REFUSED as refused:
        return _html(survey_page.render_problem(refused.code, lang),
                     STATUS_BY_KIND[refused.kind])
    return _html(survey_page.render_form(_public_out(found).model_dump(), found.questions,
                                         lang))


@router.post("/public/surveys/{token}", response_class=HTMLResponse,
             summary="Answer a survey from its HTML page (a browser's form post)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/x-www-form-urlencoded": {"schema": {
                     "type": "object", "additionalProperties": {"type": "string"}}}}}},
             responses={**_as_pages({**TOKEN_ERRORS, **error_responses(409, 422)}),
                        200: {"content": {"text/html": {}}}})
async def public_answer_form(request: Request, token: str, ctx: Anyone) -> HTMLResponse:
    """Records the answer through the same use case as the JSON route and answers with a
    thank-you page; a refused answer re-shows the form with the reasons beside the
    questions (422), a refused link is a page with the JSON route's status."""
    lang = pick_language(request.headers.get("accept-language"))
    fields: dict[str, list[str]] = {}
    for name, value in (await request.form()).multi_items():  # parsed once, by the router
        if isinstance(value, str):
            fields.setdefault(name, []).append(value)
    surveys = services(request).surveys
    try:
        await surveys.public_submit_form(ctx, token[:200], fields)
    except LINK_REFUSED as refused:
        return _html(survey_page.render_problem(refused.code, lang),
                     STATUS_BY_KIND[refused.kind])
    except InvalidInput as invalid:
        found = await surveys.public_read(ctx, token[:200])
        return _html(survey_page.render_form(
            _public_out(found).model_dump(), found.questions, lang,
            field_errors=invalid.field_errors,
            given=answers_from_form(found.questions, fields)), 422)
    return _html(survey_page.render_thanks(lang))


@router.post("/public/surveys/{token}/responses", status_code=204,
             summary="Answer a survey once", responses={**TOKEN_ERRORS,
                                                        **error_responses(409, 422)})
async def public_answer(request: Request, token: str, body: ResponseIn,
                        ctx: Anyone) -> Response:
    await services(request).surveys.public_submit(ctx, token[:200], body.answers)
    return Response(status_code=204)
