"""The webhook delivery log's prune finds attempts older than the retention by an index
on their time, instead of reading the whole log every hour.

Revision ID: 0024_attempts_by_time
Revises: 0023_import_staging
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0024_attempts_by_time'
down_revision: str | None = '0023_import_staging'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_webhook_attempts_time", "webhook_attempts", ["attempted_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_attempts_time", table_name="webhook_attempts")
