"""Bodies for reading and verifying the audit log."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.api.v1.schemas.base import Output, output_of
from app.domain.audit.chain import AuditRecord

AuditEntryOut = output_of(AuditRecord, "AuditEntryOut")


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
