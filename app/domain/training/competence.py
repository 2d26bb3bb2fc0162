"""Competence rules (资质要求): which course a person must hold, valid today, before taking
a duty. An administrator's setting, off by default. The duty's own rules (who is a party,
separation of duties, delegation) decide first; this check then asks the person who acts:
a deputy takes over the duty, not the delegator's training, so a deputy must hold the
course too. ``require`` is what the workflows call; with no ``Competence`` (no rule in
force for the duty) it does nothing, so the existing flows do not change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from app.domain.access.roles import Role
from app.domain.common.errors import DomainError, ErrorKind, FieldErrors

RULES_MAX = 50


class Duty(StrEnum):
    # Deciding an approval step (approve, reject or return); ``role`` narrows it to the
    # steps of one role (department_head, finance, executive).
    APPROVE_CHANGE = "change_request.approve"
    # A department head's signature on a handover (not a manager's, nor a head signing
    # for a departed manager).
    SIGN_HANDOVER = "handover.sign_as_department_head"
    RESOLVE_FEEDBACK = "feedback.resolve"


@dataclass(frozen=True)
class Rule:
    duty: Duty
    course_id: UUID
    role: Role | None = None  # None: whoever takes the duty

    def covers(self, duty: Duty, role: Role | None) -> bool:
        return self.duty is duty and (self.role is None or self.role is role)

    def to_dict(self) -> dict[str, Any]:
        return {"duty": self.duty.value, "course_id": str(self.course_id),
                "role": None if self.role is None else self.role.value}


@dataclass(frozen=True)
class CompetenceRules:
    """The setting: off by default, and with no rules even when on."""

    enabled: bool = False
    rules: tuple[Rule, ...] = ()

    def for_duty(self, duty: Duty) -> tuple[Rule, ...]:
        """The rules that may apply to ``duty`` (any role): empty while off."""
        return tuple(r for r in self.rules if r.duty is duty) if self.enabled else ()

    def course_ids(self) -> list[UUID]:
        return list(dict.fromkeys(r.course_id for r in self.rules))

    def to_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "rules": [r.to_dict() for r in self.rules]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompetenceRules:
        return cls(enabled=bool(data["enabled"]), rules=tuple(
            Rule(Duty(r["duty"]), UUID(r["course_id"]),
                 None if r.get("role") is None else Role(r["role"])) for r in data["rules"]))


def check_rules(rules: CompetenceRules, known_courses: set[UUID], errors: FieldErrors) -> None:
    """Every rule names an existing course, and each (duty, role) once."""
    if len(rules.rules) > RULES_MAX:
        errors.add("/rules", "too_long", max_length=RULES_MAX)
    seen: set[tuple[Duty, Role | None]] = set()
    for i, rule in enumerate(rules.rules):
        if rule.course_id not in known_courses:
            errors.add(f"/rules/{i}/course_id", "course_unknown")
        if (rule.duty, rule.role) in seen:
            errors.add(f"/rules/{i}", "duplicate")
        seen.add((rule.duty, rule.role))


@dataclass(frozen=True)
class Competence:
    """What one actor holds for a duty's rules, loaded only while a rule is in force: the
    rules, the course titles (to name them in a refusal), the last valid day of the
    actor's longest-lasting completion per course, and today's business day."""

    rules: tuple[Rule, ...]
    titles: Mapping[UUID, str]
    valid_through: Mapping[UUID, date] = field(default_factory=dict)
    today: date = date.min


class TrainingRequired(DomainError):
    """The duty needs a course the actor has not completed, or whose completion lapsed;
    the problem names the course (``course_id``, ``course_title``) and ``reason``
    (``missing`` or ``lapsed``, with ``valid_through`` for a lapsed one)."""

    code = "training_required"
    kind = ErrorKind.FORBIDDEN

    def __init__(self, rule: Rule, title: str, valid_through: date | None) -> None:
        super().__init__(course=title, duty=rule.duty.value)
        self.rule = rule
        self.extensions = {"course_id": str(rule.course_id), "course_title": title,
                           "duty": rule.duty.value,
                           "reason": "missing" if valid_through is None else "lapsed",
                           "valid_through": valid_through.isoformat() if valid_through
                           else None}


def require(competence: Competence | None, duty: Duty, role: Role | None = None) -> None:
    """Raise ``TrainingRequired`` for the first rule of ``duty`` (for ``role``) the actor
    does not hold today. A completion counts through its ``valid_through`` day."""
    if competence is None:
        return
    for rule in competence.rules:
        if not rule.covers(duty, role):
            continue
        last = competence.valid_through.get(rule.course_id)
        if last is None or competence.today > last:
            raise TrainingRequired(rule, competence.titles.get(rule.course_id, ""), last)
