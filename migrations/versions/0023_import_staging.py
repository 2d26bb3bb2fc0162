"""Import jobs remember the keys of the rows they accepted in the database (import_keys),
not in the worker's memory: duplicates within a file found by a look-up, in flat memory.

Revision ID: 0023_import_staging
Revises: 0022_report_plans
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0023_import_staging'
down_revision: str | None = '0022_report_plans'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    # UNLOGGED: scratch keys of running jobs; a resuming job rebuilds its own from the file
    op.create_table(
        "import_keys",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("file", sa.String(length=255), nullable=False),
        sa.Column("line", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "key", name=op.f("pk_import_keys")),
        prefixes=["UNLOGGED"] if postgresql else [],
    )


def downgrade() -> None:
    op.drop_table("import_keys")
