"""Courses, sessions and completions. A completion is a passed result; it is valid through
``completed_on`` plus the course's validity in calendar months, inclusive, and lapsed from
the day after (a completion on 15 March with 12 months is valid through 15 March next year
and lapsed on the 16th; a month without that day ends the validity on its last day)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from app.domain.common.errors import FieldErrors

TITLE_MAX = 200
MATERIALS_MAX = 50
ATTENDEES_MAX = 500
VALIDITY_MAX = 120  # months
# Topics are an open set: these are offered, any lower-case slug is accepted.
KNOWN_TOPICS = ("change_management", "handover", "customer_service", "data_protection")
TOPIC = re.compile(r"^[a-z][a-z0-9_]{1,49}$")


class Standing(StrEnum):
    """A person's standing for one course on a day."""

    TRAINED = "trained"
    LAPSED = "lapsed"
    NEVER = "never"


@dataclass
class Course:
    id: UUID
    title: str
    topic: str
    material_ids: list[UUID]  # knowledge articles
    validity_months: int
    pass_mark: Decimal | None  # None: no assessment, attending passes
    department_id: UUID | None  # the creating head's department; None for an admin's
    created_by: UUID
    version: int
    created_at: datetime
    updated_at: datetime

    def snapshot(self) -> dict[str, Any]:
        return {"title": self.title, "topic": self.topic,
                "material_ids": [str(m) for m in self.material_ids],
                "validity_months": self.validity_months,
                "pass_mark": None if self.pass_mark is None else str(self.pass_mark)}


@dataclass(frozen=True)
class Result:
    """One attendee's result in a session; ``passed`` is derived, never sent."""

    user_id: UUID
    attended: bool
    score: Decimal | None
    passed: bool


@dataclass
class TrainingSession:
    id: UUID
    course_id: UUID
    held_on: date
    trainer_id: UUID
    results: list[Result]
    created_by: UUID
    created_at: datetime

    def completion(self, result: Result, course: Course) -> Completion | None:
        """What a passed result counts as (its id is given when it is stored)."""
        if not result.passed:
            return None
        return Completion(None, result.user_id, course.id, self.id, self.held_on,
                          valid_through(self.held_on, course.validity_months))


@dataclass(frozen=True)
class Completion:
    """A passed result: who completed which course when, and the last day it counts."""

    id: UUID | None  # the stored result's
    user_id: UUID
    course_id: UUID
    session_id: UUID
    completed_on: date
    valid_through: date

    def standing(self, today: date) -> Standing:
        return Standing.TRAINED if today <= self.valid_through else Standing.LAPSED


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later, or that month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def valid_through(completed_on: date, validity_months: int) -> date:
    return add_months(completed_on, validity_months)


def passed(attended: bool, score: Decimal | None, pass_mark: Decimal | None) -> bool:
    """Attending passes a course without assessment; with one, a score at or above the
    pass mark is needed too (no score: not passed)."""
    if not attended:
        return False
    if pass_mark is None:
        return True
    return score is not None and score >= pass_mark


def best(completions: list[Completion]) -> dict[UUID, Completion]:
    """Per course, the completion that counts longest."""
    kept: dict[UUID, Completion] = {}
    for c in completions:
        if c.course_id not in kept or c.valid_through > kept[c.course_id].valid_through:
            kept[c.course_id] = c
    return kept


def check_course(title: str, topic: str, validity_months: int, pass_mark: Decimal | None,
                 errors: FieldErrors) -> str:
    """The title, stripped; field errors for what a schema cannot say alone."""
    title = title.strip()
    if not title:
        errors.add("/title", "string_too_short", min_length=1)
    elif len(title) > TITLE_MAX:
        errors.add("/title", "string_too_long", max_length=TITLE_MAX)
    if not TOPIC.match(topic):
        errors.add("/topic", "string_pattern_mismatch")
    if not 1 <= validity_months <= VALIDITY_MAX:
        errors.add("/validity_months", "out_of_range")
    if pass_mark is not None and not Decimal(0) <= pass_mark <= Decimal(100):
        errors.add("/pass_mark", "out_of_range")
    return title


def check_results(results: list[tuple[UUID, bool, Decimal | None]],
                  errors: FieldErrors) -> None:
    """Each attendee once; a score only for someone who attended, 0–100."""
    seen: set[UUID] = set()
    for i, (user_id, attended, score) in enumerate(results):
        if user_id in seen:
            errors.add(f"/attendees/{i}/user_id", "duplicate")
        seen.add(user_id)
        if score is not None and not attended:
            errors.add(f"/attendees/{i}/score", "score_without_attendance")
        if score is not None and not Decimal(0) <= score <= Decimal(100):
            errors.add(f"/attendees/{i}/score", "out_of_range")
