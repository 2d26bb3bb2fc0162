"""Request and response models of bulk jobs (imports and exports)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from app.api.v1.schemas.base import Input, Instant, Output
from app.domain.bulk.model import ExportEntity, ExportFormat, JobState
from app.domain.customers.model import Stage, Tier


class BulkFileOut(Output):
    name: str
    role: str = Field(description="`accounts` (customers) or `contacts`")
    sha256: str
    size: int


class ImportCountsOut(Output):
    read: int
    valid: int
    created: int
    updated: int
    unchanged: int
    rejected: int


class ImportJobOut(Output):
    id: UUID
    state: JobState
    mode: str
    dry_run: bool
    preset: str | None
    files: list[BulkFileOut]
    counts: ImportCountsOut
    position: int = Field(description="Rows whose outcome is committed (the resume point)")
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ExportFilters(Input):
    """The list endpoints' filters: customers (`GET /customers`) use the first seven,
    change requests and feedback `customer_id` and `state`."""

    owner_id: UUID | None = None
    department_id: UUID | None = None
    tier: Tier | None = None
    stage: Stage | None = None
    tag: str | None = Field(None, min_length=1, max_length=50)
    updated_since: Instant | None = None
    include_archived: bool = False
    customer_id: UUID | None = None
    state: str | None = Field(None, min_length=1, max_length=32)


class ExportCreate(Input):
    entity: ExportEntity
    format: ExportFormat = ExportFormat.CSV
    include_contacts: bool = Field(True, description="customers: with their contacts")
    filters: ExportFilters = Field(default_factory=ExportFilters)


class ExportJobOut(Output):
    id: UUID
    state: JobState
    entity: ExportEntity
    format: ExportFormat
    rows: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    download: str | None = Field(description="Where to fetch the file once completed")
