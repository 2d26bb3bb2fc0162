"""Bulk jobs: imports and exports run by the worker, and the rows an import rejected.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.repositories.types import JSONType, UTCDateTime

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bulk_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("principal", JSONType, nullable=False),
        sa.Column("options", JSONType, nullable=False),
        sa.Column("files", JSONType, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("counts", JSONType, nullable=False),
        sa.Column("result_key", sa.String(length=200), nullable=True),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("lease_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bulk_jobs_claim", "bulk_jobs", ["kind", "state", "created_at"])
    op.create_table(
        "bulk_job_problems",
        sa.Column("id", AutoId, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("file", sa.String(length=255), nullable=False),
        sa.Column("line", sa.BigInteger(), nullable=False),
        sa.Column("column", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("params", JSONType, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bulk_job_problems_job", "bulk_job_problems", ["job_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_bulk_job_problems_job", table_name="bulk_job_problems")
    op.drop_table("bulk_job_problems")
    op.drop_index("ix_bulk_jobs_claim", table_name="bulk_jobs")
    op.drop_table("bulk_jobs")
