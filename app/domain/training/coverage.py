"""Training coverage (培训覆盖率): per course, department and role, how many active people
are trained (a completion valid on the day), lapsed (completed, none valid on the day) or
never trained. A person with two roles counts once under each; only completions on or
after ``since`` count, when it is given."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from app.domain.access.roles import Role
from app.domain.training.model import Completion, Course, Standing


@dataclass(frozen=True)
class Person:
    id: UUID
    department_id: UUID
    roles: frozenset[Role]


@dataclass(frozen=True)
class CoverageRow:
    course_id: UUID
    course_title: str
    department_id: UUID
    role: Role
    trained: int
    lapsed: int
    never: int

    @property
    def people(self) -> int:
        return self.trained + self.lapsed + self.never


def standing(completions: list[Completion], on: date) -> Standing:
    """Trained when any completion (made by ``on``) is valid on that day."""
    made = [c for c in completions if c.completed_on <= on]
    if not made:
        return Standing.NEVER
    return Standing.TRAINED if any(on <= c.valid_through for c in made) else Standing.LAPSED


def coverage(people: list[Person], courses: list[Course], completions: list[Completion],
             on: date, since: date | None = None) -> list[CoverageRow]:
    """Rows ordered by course title, department and role; a department or role without
    people has no row."""
    held: dict[tuple[UUID, UUID], list[Completion]] = {}
    for c in completions:
        if since is None or c.completed_on >= since:
            held.setdefault((c.user_id, c.course_id), []).append(c)
    rows = []
    for course in sorted(courses, key=lambda c: (c.title, str(c.id))):
        counts: Counter[tuple[UUID, Role, Standing]] = Counter()
        for person in people:
            where = standing(held.get((person.id, course.id), []), on)
            for role in person.roles:
                counts[(person.department_id, role, where)] += 1
        for department, role in sorted({(d, r) for d, r, _ in counts},
                                       key=lambda k: (str(k[0]), k[1].value)):
            rows.append(CoverageRow(course.id, course.title, department, role,
                                    *(counts[(department, role, s)] for s in Standing)))
    return rows
