"""Bodies of customer interactions and the contact cadence."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field

from app.api.v1.schemas.base import Input, Instant, Output
from app.domain.interactions.model import InteractionKind

Days = Annotated[int, Field(ge=1, le=365)]


class InteractionIn(Input):
    kind: InteractionKind
    occurred_at: Instant
    summary: Annotated[str, Field(min_length=1, max_length=5000)]
    participants: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list,
                                                                      max_length=50)
    contact_ids: list[UUID] = Field(default_factory=list, max_length=50,
                                    description="The customer's contacts who took part")
    next_step: Annotated[str, Field(max_length=2000)] = ""


class InteractionOut(Output):
    id: UUID
    customer_id: UUID
    kind: InteractionKind
    occurred_at: datetime
    recorded_by: UUID
    participants: list[str]
    contact_ids: list[UUID]
    summary: str
    next_step: str
    created_at: datetime


class CadenceOut(Output):
    tier: str
    working_days: int = Field(description="The tier's cadence")
    last_contact_at: datetime | None
    next_contact_due: date = Field(description="In working days of the business calendar")
    overdue: bool


class CadencePolicyIn(Input):
    working_days: dict[Annotated[str, Field(pattern="^[ABCD]$")], Days] = Field(
        description="Working days between contacts per tier, e.g. A 14 … D 90")


class CadencePolicyOut(CadencePolicyIn):
    version: int
