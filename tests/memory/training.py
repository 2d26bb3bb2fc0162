"""Training records in memory: courses and completions (what the competence rules read)."""

from __future__ import annotations

from uuid import UUID

from app.domain.common.ids import new_id
from app.domain.training.model import Completion, Course, TrainingSession
from tests.memory.store import Working, copied


class MemoryTrainingRepository:
    def __init__(self, tables: Working) -> None:
        self._t = tables

    async def add_course(self, course: Course) -> None:
        self._t.training_courses[course.id] = copied(course)

    async def get_course(self, course_id: UUID) -> Course | None:
        return copied(self._t.training_courses.get(course_id))

    async def courses(self, ids: list[UUID]) -> list[Course]:
        return [copied(self._t.training_courses[i]) for i in ids
                if i in self._t.training_courses]

    async def add_session(self, session: TrainingSession, course: Course) -> None:
        for result in session.results:
            done = session.completion(result, course)
            if done is not None:
                self._t.training_completions.append(
                    Completion(new_id(), done.user_id, done.course_id, done.session_id,
                               done.completed_on, done.valid_through))

    async def completions(self, user_ids: list[UUID],
                          course_ids: list[UUID] | None = None) -> list[Completion]:
        return [c for c in self._t.training_completions if c.user_id in user_ids
                and (course_ids is None or c.course_id in course_ids)]
