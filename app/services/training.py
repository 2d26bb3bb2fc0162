"""员工培训 use cases: courses, sessions with their results, a person's record, what lapses
soon, the competence rules other use cases ask before an action, the coverage report, and
the periodic announcement of lapses and reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.access.scope import Reach, read_scope
from app.domain.common.errors import FieldErrors, NotFound
from app.domain.common.events import DomainEvent
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest
from app.domain.training.access import reads_record, records_for
from app.domain.training.competence import (
    Competence,
    CompetenceRules,
    Duty,
    TrainingRequired,
    check_rules,
)
from app.domain.training.coverage import CoverageRow, coverage
from app.domain.training.model import (
    Completion,
    Course,
    Result,
    TrainingSession,
    best,
    check_course,
    check_results,
    passed,
)
from app.services.business_calendar import load_calendar
from app.services.policies import PolicySetting, load_policy, store_policy, stored_as
from app.services.ports import Clock, RequestContext
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

COURSE = "training_course"
REMIND_DAYS = 30  # how long before a completion lapses its holder is reminded
SESSION = "training_session"

COMPETENCE_RULES = stored_as("training_competence", CompetenceRules)


async def competence_for(uow: UnitOfWork, principal: Principal, duty: Duty,
                         now: datetime) -> Competence | None:
    """What ``principal`` holds for the rules of ``duty`` that may apply to them (a rule
    for a role they lack never does), or None while no such rule is in force: then only
    the setting was read, and the duty is decided as without this feature. The use case
    asks this before a governed action only."""
    rules, _ = await load_policy(uow, COMPETENCE_RULES)
    applicable = tuple(r for r in rules.for_duty(duty)
                       if r.role is None or r.role in principal.roles)
    if not applicable:
        return None
    ids = list(dict.fromkeys(r.course_id for r in applicable))
    held = best(await uow.training.completions([principal.id], ids))
    titles = {c.id: c.title for c in await uow.training.courses(ids)}
    return Competence(applicable, titles, {k: c.valid_through for k, c in held.items()},
                      (await load_calendar(uow)).local_date(now))


async def record_refusal(uow: UnitOfWork, refusal: TrainingRequired, entity_type: str,
                         entity_id: UUID, now: datetime) -> None:
    """Audit a refusal and commit only that (nothing else was written before the check):
    the caller raises the refusal afterwards."""
    uow.record_change("training.competence_refused", entity_type, entity_id,
                      after={**refusal.extensions,
                             "role": None if refusal.rule.role is None
                             else refusal.rule.role.value}, at=now)
    await uow.commit()


class CompetenceRulesService(PolicySetting[CompetenceRules]):
    """The administrator's competence rules: every change audited (``policy.updated``)."""

    kind = COMPETENCE_RULES

    async def set(self, ctx: RequestContext, value: CompetenceRules,
                  expected_version: int) -> int:
        """Every rule must name an existing course (422 ``course_unknown``)."""
        async with self._uow(ctx) as uow:
            known = {c.id for c in await uow.training.courses(value.course_ids())}
            errors = FieldErrors()
            check_rules(value, known, errors)
            errors.raise_if_any()
            actor = str(ctx.principal.id) if ctx.principal else None
            version = await store_policy(uow, self.kind, value, expected_version, actor,
                                         self._clock.now())
            await uow.commit()
            return version


@dataclass(frozen=True)
class CourseInput:
    title: str
    topic: str
    validity_months: int
    material_ids: tuple[UUID, ...] = ()
    pass_mark: Decimal | None = None


@dataclass(frozen=True)
class AttendeeInput:
    user_id: UUID
    attended: bool
    score: Decimal | None = None


@dataclass(frozen=True)
class TrainingRecord:
    """A person's training: every session they were enrolled in with their result, and per
    course the completion that counts longest."""

    user_id: UUID
    sessions: list[TrainingSession]
    completions: list[Completion]
    courses: dict[UUID, Course]
    today: date


def _cents(mark: Decimal | None) -> Decimal | None:
    """Marks are kept to two places: what is answered is what is stored."""
    return None if mark is None else mark.quantize(Decimal("0.01"))


class TrainingService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    # courses -------------------------------------------------------------------------

    async def create_course(self, ctx: RequestContext, new: CourseInput) -> Course:
        """Materials must be existing knowledge articles (422 ``article_unknown``)."""
        assert ctx.principal is not None
        now = self._clock.now()
        errors = FieldErrors()
        title = check_course(new.title, new.topic, new.validity_months, new.pass_mark, errors)
        materials = list(dict.fromkeys(new.material_ids))
        async with self._uow(ctx) as uow:
            scope = read_scope(ctx.principal)  # the knowledge base is read by everyone
            for i, article_id in enumerate(materials):
                if await uow.knowledge.get(article_id, scope) is None:
                    errors.add(f"/material_ids/{i}", "article_unknown")
            errors.raise_if_any()
            course = Course(id=new_id(), title=title, topic=new.topic, material_ids=materials,
                            validity_months=new.validity_months, pass_mark=_cents(new.pass_mark),
                            department_id=ctx.principal.department_id,
                            created_by=ctx.principal.id, version=1, created_at=now,
                            updated_at=now)
            await uow.training.add_course(course)
            uow.record_change("training_course.created", COURSE, course.id,
                              after=course.snapshot(), event={"title": course.title}, at=now)
            await uow.commit()
            return course

    async def get_course(self, ctx: RequestContext, course_id: UUID) -> Course:
        async with self._uow(ctx, write=False) as uow:
            course = await uow.training.get_course(course_id)
        if course is None:
            raise NotFound(entity=COURSE)
        return course

    async def list_courses(self, ctx: RequestContext, page: PageRequest) -> Page[Course]:
        async with self._uow(ctx, write=False) as uow:
            return await uow.training.list_courses(page)

    # sessions ------------------------------------------------------------------------

    async def record_session(self, ctx: RequestContext, course_id: UUID, held_on: date,
                             trainer_id: UUID, attendees: list[AttendeeInput]
                             ) -> TrainingSession:
        """Each attendee's ``passed`` follows from the course's pass mark; every passed
        result is a completion announced as ``training.completed``."""
        assert ctx.principal is not None
        now = self._clock.now()
        errors = FieldErrors()
        check_results([(a.user_id, a.attended, a.score) for a in attendees], errors)
        async with self._uow(ctx) as uow:
            course = await uow.training.get_course(course_id)
            if course is None:
                raise NotFound(entity=COURSE)
            trainer = await uow.users.get(trainer_id)
            if trainer is None or not trainer.active:
                errors.add("/trainer_id", "user_unknown")
            for i, a in enumerate(attendees):
                user = await uow.users.get(a.user_id)
                if user is None or not user.active or not records_for(
                        ctx.principal, user.id, user.department_id):
                    errors.add(f"/attendees/{i}/user_id", "user_unknown")
            errors.raise_if_any()
            session = TrainingSession(
                id=new_id(), course_id=course.id, held_on=held_on, trainer_id=trainer_id,
                results=[Result(a.user_id, a.attended, _cents(a.score),
                                passed(a.attended, a.score, course.pass_mark))
                         for a in attendees],
                created_by=ctx.principal.id, created_at=now)
            await uow.training.add_session(session, course)
            uow.record_change("training_session.recorded", SESSION, session.id, after={
                "course_id": str(course.id), "held_on": held_on.isoformat(),
                "trainer_id": str(trainer_id),
                "results": [{"user_id": str(r.user_id), "attended": r.attended,
                             "score": None if r.score is None else str(r.score),
                             "passed": r.passed} for r in session.results]}, at=now)
            for result in session.results:
                done = session.completion(result, course)
                if done is not None:
                    uow.emit(DomainEvent("training.completed", "user", result.user_id, now, {
                        "course_id": str(course.id), "course_title": course.title,
                        "session_id": str(session.id), "completed_on": held_on.isoformat(),
                        "valid_through": done.valid_through.isoformat()}))
            await uow.commit()
            return session

    # records -------------------------------------------------------------------------

    async def record_of(self, ctx: RequestContext, user_id: UUID) -> TrainingRecord:
        """Yourself, or someone whose user record you read (404 otherwise)."""
        assert ctx.principal is not None
        async with self._uow(ctx, write=False) as uow:
            user = await uow.users.get(user_id)
            if user is None or not reads_record(ctx.principal, user.id, user.department_id):
                raise NotFound(entity="user")
            sessions = await uow.training.sessions_of(user_id)
            completions = list(best(await uow.training.completions([user_id])).values())
            courses = await uow.training.courses(
                list({s.course_id for s in sessions}))
            today = (await load_calendar(uow)).local_date(self._clock.now())
        return TrainingRecord(user_id, sessions, completions,
                              {c.id: c for c in courses}, today)

    async def expiring(self, ctx: RequestContext, within: timedelta,
                       page: PageRequest) -> tuple[Page[Completion], date]:
        """Completions still valid today whose last valid day is within ``within`` (and
        not renewed): everyone's for an administrator or executive, a head's department
        for a head."""
        assert ctx.principal is not None
        scope = read_scope(ctx.principal)
        department = scope.department_id if scope.reach is not Reach.ALL else None
        async with self._uow(ctx, write=False) as uow:
            today = (await load_calendar(uow)).local_date(self._clock.now())
            found = await uow.training.expiring(today, today + timedelta(days=within.days),
                                                department, page)
        return found, today


    async def coverage(self, ctx: RequestContext, course_id: UUID | None,
                       department_id: UUID | None, since: date | None,
                       on: date | None) -> tuple[list[CoverageRow], date]:
        """Standing on ``on`` (default today) of active people: everyone's for an
        administrator or executive, a head's own department for a head; completions made
        before ``since`` do not count."""
        assert ctx.principal is not None
        scope = read_scope(ctx.principal)
        if scope.reach is not Reach.ALL:
            if department_id not in (None, scope.department_id):
                raise NotFound(entity="department")
            department_id = scope.department_id
        async with self._uow(ctx, write=False) as uow:
            day = on or (await load_calendar(uow)).local_date(self._clock.now())
            if course_id is None:
                courses = await uow.training.all_courses()
            else:
                course = await uow.training.get_course(course_id)
                if course is None:
                    raise NotFound(entity=COURSE)
                courses = [course]
            people = await uow.training.people(department_id)
            completions = await uow.training.completions(
                [p.id for p in people], [c.id for c in courses])
        return coverage(people, courses, completions, day, since), day

    async def announce_lapses(self, ctx: RequestContext, remind_days: int = REMIND_DAYS,
                              limit: int = 500) -> tuple[int, int]:
        """Announce each completion that lapsed and no later one renews, once
        (``training.lapsed``, from the day after its last valid day), and remind once of
        each lapsing within ``remind_days`` (``training.expiring``). A scheduler calls
        this daily or more often; runs in parallel skip each other's rows. Returns
        (lapsed, reminded)."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            today = (await load_calendar(uow)).local_date(now)
            lapsed = await uow.training.due_lapses(today, limit)
            soon = await uow.training.due_reminders(
                today, today + timedelta(days=remind_days), limit)
            titles = {c.id: c.title for c in await uow.training.courses(
                list({c.course_id for c in [*lapsed, *soon]}))}
            for column, event, found in (("lapse_announced_at", "training.lapsed", lapsed),
                                         ("reminded_at", "training.expiring", soon)):
                for c in found:
                    await uow.training.mark(c, column, now)
                    uow.emit(DomainEvent(event, "user", c.user_id, now, {
                        "course_id": str(c.course_id),
                        "course_title": titles.get(c.course_id, ""),
                        "completed_on": c.completed_on.isoformat(),
                        "valid_through": c.valid_through.isoformat()}))
            await uow.commit()
            return len(lapsed), len(soon)
