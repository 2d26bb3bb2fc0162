"""Ports of notifications, reminders and the e-mail outbox (issue 15 §4–6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from app.domain.access.roles import Role
from app.domain.common.paging import Page, PageRequest
from app.domain.notifications.rules import Holder


@dataclass(frozen=True)
class Notification:
    id: UUID
    user_id: UUID
    kind: str
    entity_type: str
    entity_id: str
    path: str
    details: dict[str, Any]
    event_id: UUID | None
    created_at: datetime
    read_at: datetime | None = None


@dataclass(frozen=True)
class Recipient:
    """A user as notifications see them: whether to e-mail them too, and in which
    language."""

    user_id: UUID
    email: str
    active: bool
    email_opt_in: bool
    language: str | None


@dataclass(frozen=True)
class Preferences:
    """A user's own notification settings; version 0 until first saved."""

    user_id: UUID
    email: bool
    language: str
    version: int
    updated_at: datetime | None = None


class NotificationRepository(Protocol):
    async def add(self, notifications: Sequence[Notification]) -> None: ...
    async def list(self, user_id: UUID, unread_only: bool,
                   page: PageRequest) -> Page[Notification]: ...
    async def get(self, user_id: UUID, notification_id: UUID) -> Notification | None: ...
    async def mark_read(self, user_id: UUID, notification_ids: Sequence[UUID] | None,
                        now: datetime) -> int:
        """Mark these (None: all) unread notifications of the user read; how many were."""
        ...
    async def holders(self, role: Role, department_id: UUID | None) -> list[Holder]:
        """Active users holding ``role`` (in ``department_id`` when given)."""
        ...
    async def customer_owner(self, customer_id: UUID) -> UUID | None: ...
    async def recipients(self, user_ids: Sequence[UUID]) -> list[Recipient]: ...
    async def preferences(self, user_id: UUID) -> Preferences | None: ...
    async def save_preferences(self, preferences: Preferences) -> None:
        """Insert at version 1, update after."""
        ...


@dataclass(frozen=True)
class OutgoingEmail:
    """One e-mail to send: rendered from its template at sending time, in ``language``."""

    id: UUID
    to_address: str
    kind: str
    language: str
    context: dict[str, Any]
    created_at: datetime
    attempts: int = 0


class EmailOutbox(Protocol):
    async def add(self, emails: Sequence[OutgoingEmail]) -> None: ...
    async def claim(self, now: datetime, lease_until: datetime,
                    limit: int) -> list[OutgoingEmail]:
        """Unsent e-mails whose next attempt is due, leased until ``lease_until`` (another
        sender skips them meanwhile; a sender that dies leaves them to the next one)."""
        ...
    async def sent(self, email_id: UUID, now: datetime) -> None:
        """Sent: its content (a survey link is a secret) is not kept."""
        ...
    async def failed(self, email_id: UUID, error: str, next_attempt_at: datetime | None,
                     now: datetime) -> None:
        """A failed attempt: tried again at ``next_attempt_at``, or given up (None)."""
        ...


@dataclass(frozen=True)
class StepDue:
    step_id: UUID
    change_request_id: UUID
    title: str
    requester_id: UUID
    position: int
    role: Role
    department_id: UUID | None
    due_at: datetime


@dataclass(frozen=True)
class FollowUpDue:
    handover_id: UUID
    customer_name: str
    to_manager_id: UUID
    department_id: UUID
    follow_up_due: date


@dataclass(frozen=True)
class FeedbackDue:
    feedback_id: UUID
    owner_id: UUID
    type: str
    severity: str
    clock: str  # "acknowledge" | "resolve"
    due_at: datetime


@dataclass(frozen=True)
class MilestoneDue:
    """A milestone of an active plan, not done, and who answers for it: its own owner, or
    the plan's when it names none."""

    plan_id: UUID
    plan_title: str
    milestone_id: UUID
    title: str
    planned_date: date
    owner_id: UUID


@dataclass(frozen=True)
class ContactDue:
    """A customer's next contact by the contact cadence (``contact_schedules``)."""

    customer_id: UUID
    customer_name: str
    due_on: date


class ReminderRepository(Protocol):
    async def steps_due_between(self, after: datetime, until: datetime,
                                limit: int) -> list[StepDue]:
        """Current approval steps due after ``after`` and by ``until``."""
        ...
    async def follow_ups_due_between(self, first_day: date, last_day: date,
                                     limit: int) -> list[FollowUpDue]:
        """Transferred handovers whose follow-up, not yet made, falls due in the days."""
        ...
    async def feedback_due_between(self, after: datetime, until: datetime,
                                   limit: int) -> list[FeedbackDue]:
        """Open feedback whose acknowledge or resolve clock runs out after ``after`` and by
        ``until``."""
        ...
    async def milestones_due_between(self, first_day: date, last_day: date,
                                     limit: int) -> list[MilestoneDue]:
        """Open milestones of active plans planned for the days."""
        ...
    async def contacts_due_between(self, first_day: date, last_day: date,
                                   limit: int) -> list[ContactDue]:
        """Live customers whose next contact falls due in the days."""
        ...
    async def claim(self, kind: str, record_id: UUID, due: str, now: datetime) -> bool:
        """Whether this reminder is still to send; claims it (once per key) if so."""
        ...


@dataclass(frozen=True)
class EmailMessage:
    to_address: str
    subject: str
    body: str
    language: str


class EmailUndeliverable(Exception):
    """The server refused the message for good (a bad address): not tried again."""


class EmailTransport(Protocol):
    """Hands a message to the mail server (SMTP), or to the development log."""

    async def send(self, message: EmailMessage) -> None: ...


class EmailRenderer(Protocol):
    def render(self, kind: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
        """The subject and plain-text body of an e-mail of ``kind``."""
        ...


@dataclass(frozen=True)
class EmailLinks:
    """Where the records a message links to are read (``ACCORD_PUBLIC_URL``), and the
    language of a message when its reader never chose one."""

    base_url: str = "http://127.0.0.1:8000"
    default_language: str = "zh-CN"
