"""A feedback item (反馈) and the values it carries through its closed loop (domain §6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class FeedbackChannel(StrEnum):
    """Where a feedback item arrived (domain §6). Not ``ContactChannel``: a web form or a
    survey answer is a way in, never a way to reach a contact."""

    PHONE = "phone"
    EMAIL = "email"
    IM = "im"
    VISIT = "visit"
    WEB = "web"
    SURVEY = "survey"


class FeedbackType(StrEnum):
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    PRAISE = "praise"
    QUESTION = "question"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class FeedbackState(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CONFIRMED = "confirmed"  # the customer agreed it is resolved


OPEN_STATES = frozenset({FeedbackState.RECEIVED, FeedbackState.ACKNOWLEDGED,
                         FeedbackState.IN_PROGRESS})


@dataclass(frozen=True)
class Confirmation:
    """Who on the customer's side agreed the item is resolved, and who recorded it when:
    ``contact_id`` is one of the customer's contacts (``None`` when the customer agreed
    without a recorded contact, e.g. in a meeting; ``note`` then says with whom). When the
    customer agreed is the item's ``confirmed_at``."""

    recorded_by: UUID
    recorded_at: datetime
    contact_id: UUID | None = None
    note: str = ""


@dataclass(frozen=True)
class FeedbackItem:
    """What the loop, its SLA clocks and health look at. ``department_id`` is the
    customer's department (its heads may act on the item); ``owner_id`` the account
    manager who answers for it. A reopen clears the resolution, ``resolved_at`` and the
    confirmation (earlier rounds live in the audit log) and sets ``reopened_at``, from
    which the resolve clock then runs (see sla)."""

    id: UUID
    customer_id: UUID
    department_id: UUID
    owner_id: UUID
    channel: FeedbackChannel
    type: FeedbackType
    severity: Severity
    summary: str
    state: FeedbackState
    received_at: datetime
    change_request_id: UUID | None = None
    plan_id: UUID | None = None
    handover_id: UUID | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    confirmed_at: datetime | None = None
    resolution: str = ""
    confirmation: Confirmation | None = None
    reopened_at: datetime | None = None
    reopen_count: int = 0

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES
