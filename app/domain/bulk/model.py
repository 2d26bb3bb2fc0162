"""A bulk job (an import or an export) as the worker and the API see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID


class JobKind(StrEnum):
    IMPORT = "import"
    EXPORT = "export"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED})


class ImportMode(StrEnum):
    CREATE = "create"  # a row whose customer exists is rejected
    UPSERT = "upsert"  # by Accord id, external reference, else credit code
    UPDATE = "update"  # a row whose customer does not exist is rejected


class ExportEntity(StrEnum):
    CUSTOMERS = "customers"
    CHANGE_REQUESTS = "change_requests"
    FEEDBACK = "feedback"


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


IMPORT_COUNTS = ("read", "valid", "created", "updated", "unchanged", "rejected")


@dataclass
class BulkJob:
    """``position`` is the resume point: rows (over the job's files, in order) whose
    outcome is committed. ``principal`` is who submitted it, as the job acts for them."""

    id: UUID
    kind: JobKind
    state: JobState
    created_by: UUID
    principal: dict[str, Any]
    options: dict[str, Any]
    created_at: datetime
    version: int = 1
    files: list[dict[str, Any]] = field(default_factory=list)  # name, key, sha256, rows
    position: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    result_key: str | None = None
    expires_at: datetime | None = None
    error: str | None = None
    lease_until: datetime | None = None
    lease_owner: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class RowProblem:
    """Why one row of a file was rejected: a message key (a field reason or an error
    code) with its parameters, and the source column when one is to blame."""

    file: str
    line: int
    column: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)
