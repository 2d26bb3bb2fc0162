"""A customer's interactions (calls, visits, meetings, e-mails, chats) and the contact
cadence: each tier's customers are to be contacted every so many working days after the
latest interaction; the due date counts working days of the business calendar, so a
Spring Festival or National Day week does not make every customer overdue at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from app.domain.common.calendar import BusinessCalendar
from app.domain.common.errors import FieldErrors
from app.domain.customers.model import Tier

MAX_TEXT = 5000


class InteractionKind(StrEnum):
    CALL = "call"
    VISIT = "visit"
    MEETING = "meeting"
    EMAIL = "email"
    CHAT = "chat"


@dataclass
class Interaction:
    id: UUID
    customer_id: UUID
    kind: InteractionKind
    occurred_at: datetime
    recorded_by: UUID
    summary: str
    created_at: datetime
    participants: list[str] = field(default_factory=list)  # ours and theirs, as named
    contact_ids: list[UUID] = field(default_factory=list)  # the customer's contacts present
    next_step: str = ""


def check(interaction: Interaction, now: datetime, live_contacts: frozenset[UUID]) -> None:
    errors = FieldErrors()
    if not interaction.summary.strip():
        errors.add("/summary", "missing")
    if interaction.occurred_at > now:
        errors.add("/occurred_at", "out_of_range")
    for i, contact_id in enumerate(interaction.contact_ids):
        if contact_id not in live_contacts:
            errors.add(f"/contact_ids/{i}", "contact_unknown")
    errors.raise_if_any()


DEFAULT_DAYS = {Tier.A: 14, Tier.B: 30, Tier.C: 60, Tier.D: 90}


@dataclass(frozen=True)
class CadencePolicy:
    """Working days between contacts, per value tier (admin setting)."""

    working_days: dict[Tier, int] = field(default_factory=lambda: dict(DEFAULT_DAYS))

    def __post_init__(self) -> None:
        errors = FieldErrors()
        if set(self.working_days) != set(Tier):
            errors.add("/working_days", "every_tier_needs_days")
        for tier, days in self.working_days.items():
            if not 1 <= days <= 365:
                errors.add(f"/working_days/{tier}", "out_of_range")
        errors.raise_if_any()

    def to_dict(self) -> dict[str, Any]:
        return {"working_days": {t.value: d for t, d in sorted(self.working_days.items())}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CadencePolicy:
        return cls({Tier(t): int(d) for t, d in data["working_days"].items()})


def next_contact_due(last_contact: datetime, tier: Tier, policy: CadencePolicy,
                     calendar: BusinessCalendar) -> date:
    """The local day by which the next contact is due: the tier's working days after the
    day of the latest contact."""
    return calendar.add_working_days(last_contact, policy.working_days[tier])


def is_overdue(due: date, today: date) -> bool:
    """Due on a day means contacted by the end of it: overdue from the next day."""
    return due < today
