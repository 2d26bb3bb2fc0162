"""Staff training in SQL: courses, sessions, and one result row per attendee (a passed
one is a completion carrying the last day it counts, so lapses are found by index)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, exists, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from app.domain.access.roles import Role
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest
from app.domain.training.coverage import Person
from app.domain.training.model import Completion, Course, Result, TrainingSession
from app.repositories.paging import keyset, to_page
from app.repositories.tables import user_roles, users
from app.repositories.tables_training import (
    training_courses,
    training_results,
    training_sessions,
)

COURSE_SORTS = {"title": training_courses.c.title, "created_at": training_courses.c.created_at}
EXPIRING_SORTS = {"valid_through": training_results.c.valid_through}
_COURSE_FIELDS = ("id", "title", "topic", "material_ids", "validity_months", "pass_mark",
                  "department_id", "created_by", "version", "created_at", "updated_at")
_COMPLETION = [training_results.c[f] for f in ("id", "user_id", "course_id", "session_id",
                                              "completed_on", "valid_through")]


def _course(row: Row[Any]) -> Course:
    values = dict(row._mapping)
    values["material_ids"] = [UUID(i) for i in values["material_ids"]]
    return Course(**values)


def _completion(row: Row[Any]) -> Completion:
    return Completion(**row._mapping)


def _current() -> ColumnElement[bool]:
    """A passed result no later completion of the same course by the same person outlasts."""
    later = training_results.alias("later")
    return and_(training_results.c.passed.is_(True), ~exists().where(
        later.c.user_id == training_results.c.user_id,
        later.c.course_id == training_results.c.course_id,
        later.c.passed.is_(True),
        later.c.valid_through > training_results.c.valid_through))


class SqlTrainingRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_course(self, course: Course) -> None:
        values = {f: getattr(course, f) for f in _COURSE_FIELDS}
        values["material_ids"] = [str(i) for i in course.material_ids]
        await self._conn.execute(insert(training_courses).values(**values))

    async def get_course(self, course_id: UUID) -> Course | None:
        row = (await self._conn.execute(select(training_courses).where(
            training_courses.c.id == course_id))).one_or_none()
        return _course(row) if row else None

    async def courses(self, ids: list[UUID]) -> list[Course]:
        if not ids:
            return []
        rows = (await self._conn.execute(select(training_courses).where(
            training_courses.c.id.in_(ids)))).all()
        return [_course(r) for r in rows]

    async def list_courses(self, page: PageRequest) -> Page[Course]:
        stmt = keyset(select(training_courses), COURSE_SORTS, training_courses.c.id, page)
        rows = (await self._conn.execute(stmt)).all()
        column = page.sort.field
        return to_page(rows, page, _course, lambda r: (getattr(r, column), r.id))

    async def add_session(self, session: TrainingSession, course: Course) -> None:
        await self._conn.execute(insert(training_sessions).values(
            id=session.id, course_id=session.course_id, held_on=session.held_on,
            trainer_id=session.trainer_id, created_by=session.created_by,
            created_at=session.created_at))
        if session.results:
            await self._conn.execute(insert(training_results), [
                {"id": new_id(), "session_id": session.id, "user_id": r.user_id,
                 "course_id": course.id,
                 "attended": r.attended, "score": r.score, "passed": r.passed,
                 "completed_on": session.held_on,
                 "valid_through": c.valid_through if (c := session.completion(r, course))
                 else None}
                for r in session.results])

    async def completions(self, user_ids: list[UUID],
                          course_ids: list[UUID] | None = None) -> list[Completion]:
        if not user_ids:
            return []
        stmt = select(*_COMPLETION).where(training_results.c.passed.is_(True),
                                          training_results.c.user_id.in_(user_ids))
        if course_ids is not None:
            stmt = stmt.where(training_results.c.course_id.in_(course_ids))
        return [_completion(r) for r in (await self._conn.execute(stmt)).all()]

    async def sessions_of(self, user_id: UUID) -> list[TrainingSession]:
        s, r = training_sessions, training_results
        rows = (await self._conn.execute(
            select(s, r.c.user_id, r.c.attended, r.c.score, r.c.passed)
            .join(r, r.c.session_id == s.c.id).where(r.c.user_id == user_id)
            .order_by(s.c.held_on.desc(), s.c.id))).all()
        return [TrainingSession(
            id=row.id, course_id=row.course_id, held_on=row.held_on,
            trainer_id=row.trainer_id, created_by=row.created_by, created_at=row.created_at,
            results=[Result(row.user_id, row.attended, row.score, row.passed)])
            for row in rows]

    async def expiring(self, first: date, last: date, department_id: UUID | None,
                       page: PageRequest) -> Page[Completion]:
        stmt = self._lapsing(select(*_COMPLETION), first, last)
        if department_id is not None:
            stmt = stmt.where(training_results.c.user_id.in_(
                select(users.c.id).where(users.c.department_id == department_id)))
        rows = (await self._conn.execute(keyset(stmt, EXPIRING_SORTS, training_results.c.id,
                                                page))).all()
        return to_page(rows, page, _completion, lambda r: (r.valid_through, r.id))

    @staticmethod
    def _lapsing(stmt: Select[Any], first: date, last: date) -> Select[Any]:
        return stmt.where(_current(), training_results.c.valid_through >= first,
                          training_results.c.valid_through <= last)

    async def due_reminders(self, first: date, last: date, limit: int) -> list[Completion]:
        stmt = self._lapsing(select(*_COMPLETION), first, last).where(
            training_results.c.reminded_at.is_(None)).order_by(
            training_results.c.valid_through, training_results.c.id).limit(limit).with_for_update(
            skip_locked=True, of=training_results)
        return [_completion(r) for r in (await self._conn.execute(stmt)).all()]

    async def due_lapses(self, before: date, limit: int) -> list[Completion]:
        stmt = select(*_COMPLETION).where(
            _current(), training_results.c.valid_through < before,
            training_results.c.lapse_announced_at.is_(None)).order_by(
            training_results.c.valid_through, training_results.c.id).limit(limit).with_for_update(
            skip_locked=True, of=training_results)
        return [_completion(r) for r in (await self._conn.execute(stmt)).all()]

    async def people(self, department_id: UUID | None) -> list[Person]:
        stmt = (select(users.c.id, users.c.department_id, user_roles.c.role)
                .join(user_roles, user_roles.c.user_id == users.c.id)
                .where(users.c.active.is_(True)))
        if department_id is not None:
            stmt = stmt.where(users.c.department_id == department_id)
        found: dict[UUID, tuple[UUID, set[Role]]] = {}
        for row in (await self._conn.execute(stmt)).all():
            found.setdefault(row.id, (row.department_id, set()))[1].add(Role(row.role))
        return [Person(i, d, frozenset(r)) for i, (d, r) in found.items()]

    async def all_courses(self) -> list[Course]:
        return [_course(r) for r in (await self._conn.execute(select(training_courses))).all()]

    async def mark(self, completion: Completion, column: str, at: datetime) -> None:
        assert column in ("reminded_at", "lapse_announced_at")
        await self._conn.execute(update(training_results).where(
            training_results.c.id == completion.id).values({column: at}))
