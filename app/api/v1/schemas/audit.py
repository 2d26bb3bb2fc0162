"""Bodies for reading and verifying the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from app.api.v1.schemas.base import Output


class AuditEntryOut(Output):
    seq: int
    occurred_at: datetime
    actor_id: str | None
    actor_roles: list[str]
    action: str
    entity_type: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    client_addr: str | None
    prev_hash: str
    hash: str


class ChainBreakOut(Output):
    seq: int
    problem: Literal["altered", "missing_before", "head_mismatch", "checkpoint_mismatch",
                     "checkpoint_forged"]


class VerificationOut(Output):
    intact: bool
    entries_checked: int
    last_seq: int
    breaks: list[ChainBreakOut]
    checkpoints_checked: int = Field(
        description="Signed checkpoints checked (none without the service's checkpoint key)")
    anchored_seq: int | None = Field(
        description="The newest signed checkpoint the chain still matches: entries up to "
                    "it are as they were when it was signed")
