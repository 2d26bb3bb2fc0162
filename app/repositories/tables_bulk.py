"""Tables of bulk jobs (imports and exports) and the rows an import rejected."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, Uuid

from app.repositories.tables import metadata
from app.repositories.tables_customers import AutoId
from app.repositories.types import JSONType, UTCDateTime

bulk_jobs = Table(
    "bulk_jobs", metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_by", Uuid, nullable=False),
    Column("principal", JSONType, nullable=False),
    Column("options", JSONType, nullable=False),
    Column("files", JSONType, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("counts", JSONType, nullable=False),
    Column("result_key", String(200)),
    Column("expires_at", UTCDateTime),
    Column("error", Text),
    Column("lease_until", UTCDateTime),
    Column("lease_owner", String(64)),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
)
Index("ix_bulk_jobs_claim", bulk_jobs.c.kind, bulk_jobs.c.state, bulk_jobs.c.created_at)

bulk_job_problems = Table(
    "bulk_job_problems", metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("job_id", Uuid, nullable=False),
    Column("file", String(255), nullable=False),
    Column("line", BigInteger, nullable=False),
    Column("column", String(200), nullable=False),
    Column("code", String(64), nullable=False),
    Column("params", JSONType, nullable=False),
)
Index("ix_bulk_job_problems_job", bulk_job_problems.c.job_id, bulk_job_problems.c.id)

# What identifies each row an import job accepted so far (an external reference, a credit
# code, a phone, an e-mail), with the row's line: a later row of the same file carrying a
# key already here is a duplicate within the file. Kept in the database, not in the job's
# memory, so a million-row job runs in flat memory; UNLOGGED on PostgreSQL (no WAL for a
# scratch table): a database crash empties it, and the resuming job rebuilds its keys from
# the rows before its position, as it does after a worker died.
import_keys = Table(
    "import_keys", metadata,
    Column("job_id", Uuid, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("file", String(255), nullable=False),
    Column("line", BigInteger, nullable=False),
)
