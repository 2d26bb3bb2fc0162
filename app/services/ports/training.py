"""Ports of staff training."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from app.domain.common.paging import Page, PageRequest
from app.domain.training.coverage import Person
from app.domain.training.model import Completion, Course, TrainingSession


class TrainingRepository(Protocol):
    """Courses are shared reading for every signed-in person; who reaches a person's
    record is decided by the use case on the user's record scope."""

    async def add_course(self, course: Course) -> None: ...
    async def get_course(self, course_id: UUID) -> Course | None: ...
    async def courses(self, ids: list[UUID]) -> list[Course]: ...
    async def list_courses(self, page: PageRequest) -> Page[Course]: ...
    async def add_session(self, session: TrainingSession, course: Course) -> None: ...
    async def completions(self, user_ids: list[UUID],
                          course_ids: list[UUID] | None = None) -> list[Completion]:
        """Every passed result of these people (of these courses when given)."""
        ...
    async def sessions_of(self, user_id: UUID) -> list[TrainingSession]:
        """The sessions this person attended or was enrolled in, with only their result."""
        ...
    async def expiring(self, first: date, last: date, department_id: UUID | None,
                       page: PageRequest) -> Page[Completion]:
        """Completions whose last valid day falls in [first, last], not superseded by a
        later completion of the same course (department: the person's)."""
        ...
    async def due_reminders(self, first: date, last: date,
                            limit: int) -> list[Completion]:
        """Completions lapsing in [first, last] not yet reminded nor superseded, locked
        (skipping rows another run holds)."""
        ...
    async def due_lapses(self, before: date, limit: int) -> list[Completion]:
        """Completions valid through a day before ``before``, not yet announced as lapsed
        nor superseded by a later completion, locked as ``due_reminders``."""
        ...
    async def people(self, department_id: UUID | None) -> list[Person]:
        """Active people (of one department when given) with their roles."""
        ...
    async def all_courses(self) -> list[Course]: ...
    async def mark(self, completion: Completion, column: str, at: datetime) -> None:
        """``reminded_at`` or ``lapse_announced_at``."""
        ...
