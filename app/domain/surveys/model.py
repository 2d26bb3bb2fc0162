"""Surveys (满意度调查, domain §6): templates of questions, invitations to a customer's
contacts carrying a single-use token, and the answers a respondent gives without an
account. The scored answers (NPS, CSAT, CES) feed the satisfaction statistics."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from app.domain.common.errors import DomainError, ErrorKind, FieldError, InvalidInput


class QuestionKind(StrEnum):
    NPS = "nps"  # 0–10: how likely to recommend
    CSAT = "csat"  # 1–5: how satisfied
    CES = "ces"  # 1–7: how easy
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    TEXT = "text"


SCALES: dict[QuestionKind, range] = {QuestionKind.NPS: range(0, 11),
                                     QuestionKind.CSAT: range(1, 6),
                                     QuestionKind.CES: range(1, 8)}
CHOICES = frozenset({QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE})
MAX_TEXT = 5000


class Trigger(StrEnum):
    """Why an invitation was sent."""

    MANUAL = "manual"
    CHANGE_REQUEST_CLOSED = "change_request_closed"
    HANDOVER_PULSE = "handover_pulse"  # 30 days after a strict handover's transfer


@dataclass(frozen=True)
class Question:
    id: str
    kind: QuestionKind
    text: str
    options: tuple[str, ...] = ()
    required: bool = True


@dataclass
class Template:
    id: UUID
    name: str
    questions: list[Question]
    created_by: UUID
    created_at: datetime
    archived_at: datetime | None = None
    version: int = 1


def check_questions(questions: list[Question]) -> None:
    """Ids unique; choices have two or more distinct options; scales have none; at least
    one question."""
    problems = []
    if not questions:
        problems.append(FieldError("/questions", "too_short", {"min_length": 1}))
    seen: set[str] = set()
    for i, q in enumerate(questions):
        if q.id in seen:
            problems.append(FieldError(f"/questions/{i}/id", "duplicate"))
        seen.add(q.id)
        if q.kind in CHOICES and (len(q.options) < 2 or len(set(q.options)) != len(q.options)):
            problems.append(FieldError(f"/questions/{i}/options", "choices_need_two_options"))
        if q.kind not in CHOICES and q.options:
            problems.append(FieldError(f"/questions/{i}/options", "options_only_for_choices"))
    if problems:
        raise InvalidInput(problems)


@dataclass(frozen=True)
class AnswerScore:
    """One scored answer, kept apart from the free answers so statistics read numbers."""

    question_id: str
    kind: QuestionKind
    value: int


def answers_from_form(questions: list[Question],
                      fields: dict[str, list[str]]) -> dict[str, Any]:
    """A browser form's fields (every value a string, a field per question id, checkboxes
    repeated) as the typed answers ``check_answers`` judges: scales as integers when they
    read as one, several choices as a list; blank fields are unanswered."""
    answers: dict[str, Any] = {}
    for q in questions:
        values = [v.strip() for v in fields.get(q.id, []) if v.strip()]
        if not values:
            continue
        if q.kind in SCALES:
            answers[q.id] = int(values[0]) if values[0].lstrip("-").isdigit() else values[0]
        elif q.kind is QuestionKind.MULTIPLE_CHOICE:
            answers[q.id] = values
        else:
            answers[q.id] = values[0]
    return answers


def check_answers(questions: list[Question], answers: dict[str, Any]) -> list[AnswerScore]:
    """The answers, checked against the questions (every required one answered, values in
    range, choices among the options); returns the scored ones."""
    problems = []
    by_id = {q.id: q for q in questions}
    for unknown in sorted(set(answers) - set(by_id)):
        problems.append(FieldError(f"/answers/{unknown}", "question_unknown"))
    scores = []
    for q in questions:
        pointer = f"/answers/{q.id}"
        value = answers.get(q.id)
        if value is None:
            if q.required:
                problems.append(FieldError(pointer, "missing"))
            continue
        if q.kind in SCALES:
            scale = SCALES[q.kind]
            if isinstance(value, bool) or not isinstance(value, int) or value not in scale:
                problems.append(FieldError(pointer, "answer_out_of_scale",
                                           {"low": scale.start, "high": scale.stop - 1}))
            else:
                scores.append(AnswerScore(q.id, q.kind, value))
        elif q.kind is QuestionKind.SINGLE_CHOICE:
            if value not in q.options:
                problems.append(FieldError(pointer, "choice_unknown"))
        elif q.kind is QuestionKind.MULTIPLE_CHOICE:
            if not isinstance(value, list) or not value or \
                    not all(isinstance(v, str) and v in q.options for v in value) or \
                    len(set(value)) != len(value):
                problems.append(FieldError(pointer, "choice_unknown"))
        elif not isinstance(value, str) or len(value) > MAX_TEXT:
            problems.append(FieldError(pointer, "text_answer_invalid", {"max_length": MAX_TEXT}))
    if problems:
        raise InvalidInput(problems)
    return scores


@dataclass
class Invitation:
    id: UUID
    template_id: UUID
    customer_id: UUID
    contact_id: UUID
    department_id: UUID
    owner_id: UUID  # the customer's manager when invited: per-manager statistics
    trigger: Trigger
    source_id: UUID | None  # the change request or handover that triggered it
    token_hash: str = field(repr=False)
    expires_at: datetime
    created_by: UUID | None
    created_at: datetime
    responded_at: datetime | None = None
    revoked_at: datetime | None = None


class InvitationUnknown(DomainError):
    """A wrong or tampered token: nothing is said about whether an invitation exists."""

    code = "survey_not_found"
    kind = ErrorKind.NOT_FOUND


class InvitationClosed(DomainError):
    """Expired or revoked: the invitation can no longer be answered."""

    code = "survey_closed"
    kind = ErrorKind.GONE


class AlreadyAnswered(DomainError):
    code = "survey_already_answered"
    kind = ErrorKind.CONFLICT


def new_token() -> tuple[str, str]:
    """An unguessable token (256 random bits) and the hash that is stored; the token itself
    is shown once, to whoever sends the invitation."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_open(invitation: Invitation, now: datetime) -> None:
    if invitation.responded_at is not None:
        raise AlreadyAnswered()
    if invitation.revoked_at is not None or invitation.expires_at <= now:
        raise InvitationClosed()


@dataclass(frozen=True)
class Automation:
    """Which template the automatic invitations use (none: that trigger sends nothing)
    and how long an invitation stays open."""

    change_request_closed_template_id: UUID | None = None
    handover_pulse_template_id: UUID | None = None
    expires_in_days: int = 14

    def __post_init__(self) -> None:
        if not 1 <= self.expires_in_days <= 180:
            raise InvalidInput([FieldError("/expires_in_days", "out_of_range")])

    def template_for(self, trigger: Trigger) -> UUID | None:
        return {Trigger.CHANGE_REQUEST_CLOSED: self.change_request_closed_template_id,
                Trigger.HANDOVER_PULSE: self.handover_pulse_template_id}.get(trigger)

    def to_dict(self) -> dict[str, Any]:
        return {"change_request_closed_template_id": _text(self.change_request_closed_template_id),
                "handover_pulse_template_id": _text(self.handover_pulse_template_id),
                "expires_in_days": self.expires_in_days}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Automation:
        return cls(_uuid(data.get("change_request_closed_template_id")),
                   _uuid(data.get("handover_pulse_template_id")),
                   int(data.get("expires_in_days", 14)))


def _text(value: UUID | None) -> str | None:
    return str(value) if value else None


def _uuid(value: Any) -> UUID | None:
    return UUID(str(value)) if value else None
