"""``/training``: courses, sessions and results, a person's record, what lapses soon;
``/settings/competence-rules``: which course a duty needs."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, Query, Request, Response

from app.api.container import services
from app.api.csv_export import csv_response
from app.api.etag import set_etag
from app.api.idempotency import Idempotent
from app.api.pagination import ListPage, list_page, page_params
from app.api.period import Period, period_params
from app.api.policy_settings import policy_setting
from app.api.problems import error_responses
from app.api.security import allow, signed_in
from app.api.v1.routing import feature_router
from app.api.v1.schemas.training import (
    AttendeeResultOut,
    CompetenceRulesIO,
    CompetenceRulesOut,
    CompletionOut,
    CourseCreate,
    CourseOut,
    CourseStandingOut,
    CoverageOut,
    CoverageRowOut,
    SessionCreate,
    SessionOut,
    TrainingRecordOut,
)
from app.domain.access.roles import Role
from app.domain.common.paging import PageRequest
from app.domain.training.access import KEEPERS, OVERSEERS
from app.domain.training.competence import CompetenceRules
from app.domain.training.model import Completion, Course, TrainingSession
from app.services.ports import RequestContext
from app.services.training import AttendeeInput, CourseInput

router = feature_router("training")

Reader = Annotated[RequestContext, Depends(signed_in())]
Keeper = Annotated[RequestContext, Depends(allow(*KEEPERS))]
Overseer = Annotated[RequestContext, Depends(allow(*OVERSEERS))]
Admin = Annotated[RequestContext, Depends(allow(Role.ADMIN))]
Format = Annotated[Literal["json", "csv"], Query(description="csv: a spreadsheet export")]
COURSES = "/training/courses"


def _course(response: Response | None, course: Course) -> CourseOut:
    if response is not None:
        set_etag(response, course.version)
    return CourseOut.model_validate(course.__dict__)


def _session(session: TrainingSession) -> SessionOut:
    return SessionOut.model_validate({**session.__dict__, "results": [
        AttendeeResultOut.model_validate(r.__dict__) for r in session.results]})


def _completion(completion: Completion) -> CompletionOut:
    return CompletionOut.model_validate(completion.__dict__)


@router.post(COURSES, response_model=CourseOut, status_code=201, summary="Create a course",
             responses=error_responses(409), dependencies=[Idempotent])
async def create_course(request: Request, response: Response, body: CourseCreate,
                        ctx: Keeper) -> CourseOut:
    """Administrators and department heads. Every material must be a knowledge article
    (422 `article_unknown`)."""
    course = await services(request).training.create_course(ctx, CourseInput(
        title=body.title, topic=body.topic, validity_months=body.validity_months,
        material_ids=tuple(body.material_ids), pass_mark=body.pass_mark))
    response.headers["Location"] = f"/api/v1{COURSES}/{course.id}"
    return _course(response, course)


@router.get(COURSES, response_model=ListPage[CourseOut], summary="List courses")
async def list_courses(
    request: Request, ctx: Reader,
    page: Annotated[PageRequest, Depends(page_params(["title", "created_at"], "title"))],
) -> dict[str, object]:
    result = await services(request).training.list_courses(ctx, page)
    return list_page(request, result, page, lambda c: _course(None, c))


@router.get(COURSES + "/{course_id}", response_model=CourseOut, summary="Read a course",
            responses=error_responses(404))
async def get_course(request: Request, response: Response, course_id: UUID,
                     ctx: Reader) -> CourseOut:
    return _course(response, await services(request).training.get_course(ctx, course_id))


@router.post(COURSES + "/{course_id}/sessions", response_model=SessionOut, status_code=201,
             summary="Record a session and its results", responses=error_responses(404, 409),
             dependencies=[Idempotent])
async def record_session(request: Request, body: SessionCreate, course_id: UUID,
                         ctx: Keeper) -> SessionOut:
    """Each attendee's `passed` is derived from the course's pass mark (without one,
    attending passes); a passed result is a completion, valid through `held_on` plus the
    course's validity in calendar months, and announced as `training.completed`. A
    department head records attendees of their own department (422 `user_unknown` for
    others)."""
    session = await services(request).training.record_session(
        ctx, course_id, body.held_on, body.trainer_id,
        [AttendeeInput(a.user_id, a.attended, a.score) for a in body.attendees])
    return _session(session)


@router.get("/training/expiring", response_model=ListPage[CompletionOut],
            summary="Completions about to lapse")
async def list_expiring(
    request: Request, ctx: Overseer,
    page: Annotated[PageRequest, Depends(page_params(["valid_through"], "valid_through"))],
    within: Annotated[str, Query(pattern=r"^[0-9]{1,3}d$", description=(
        "Days ahead, e.g. 30d: completions still valid today whose last valid day is at "
        "most this many days away and that no later completion renews"))] = "30d",
) -> dict[str, object]:
    """Everyone's for administrators and executives; a head's own department."""
    found, _ = await services(request).training.expiring(
        ctx, timedelta(days=int(within[:-1])), page)
    return list_page(request, found, page, _completion)


@router.get("/users/{user_id}/training", response_model=TrainingRecordOut,
            summary="A person's training record", responses=error_responses(404))
async def user_training(request: Request, user_id: UUID, ctx: Reader) -> TrainingRecordOut:
    """Yourself, or someone whose user record you read (your department as its head, anyone
    as an administrator or executive); anyone else is 404."""
    record = await services(request).training.record_of(ctx, user_id)
    return TrainingRecordOut(
        user_id=record.user_id, today=record.today,
        sessions=[_session(s) for s in record.sessions],
        courses=[CourseStandingOut.model_validate({
            **c.__dict__, "course_title": record.courses[c.course_id].title,
            "standing": c.standing(record.today)}) for c in record.completions])


policy_setting(
    router, "/settings/competence-rules", "competence_rules", reader=Reader, writer=Admin,
    body=CompetenceRulesIO, out=CompetenceRulesOut, domain=CompetenceRules,
    use_cases=lambda s: (s.competence_rules.get, s.competence_rules.set),
    summaries=("Which course a duty needs", "Change the competence rules"),
    put_description=(
        "Administrators. While `enabled`, an actor taking a duty a rule names must hold "
        "the\nrule's course, completed and not lapsed, or is refused with 403 "
        "`training_required`\nnaming the course (`course_id`, `course_title`, `reason`); a "
        "deputy must hold it\nthemselves. Every course must exist (422 `course_unknown`); "
        "each change is audited."))


@router.get("/reports/training-coverage", response_model=CoverageOut,
            summary="Who is trained, lapsed or never trained, per department and role",
            responses={200: {"content": {"text/csv": {}}}, **error_responses(404)})
async def coverage_report(
    request: Request, ctx: Overseer,
    period: Annotated[Period, Depends(period_params("Completed"))],
    course_id: Annotated[UUID | None, Query(description="One course; default all")] = None,
    department_id: Annotated[UUID | None, Query()] = None,
    format: Format = "json",
) -> Any:
    """Active people on the last day of the period (the day before `until`; default
    today), per course, department and role; completions before `since` do not count.
    Administrators and executives see every department, a head their own (another is
    404)."""
    on = (period.until - timedelta(days=1)).date() if period.until else None
    rows, day = await services(request).training.coverage(
        ctx, course_id, department_id, period.since.date() if period.since else None, on)
    if format == "csv":
        return csv_response(
            ("on", "course_id", "course_title", "department_id", "role", "trained", "lapsed",
             "never"),
            [(day.isoformat(), r.course_id, r.course_title, r.department_id, r.role.value,
              r.trained, r.lapsed, r.never) for r in rows], "training-coverage.csv")
    return CoverageOut(on=day, rows=[CoverageRowOut.model_validate(r.__dict__)
                                     for r in rows])
