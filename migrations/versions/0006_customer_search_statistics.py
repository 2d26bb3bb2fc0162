"""Finer planner statistics for the customers' search text (PostgreSQL only).

PostgreSQL estimates how many rows ``search_text LIKE '%term%'`` matches by trying the
pattern on the column's histogram. With the default 100 entries a term found in 1.5 % of
the customers is often estimated at 0.01 %, and the planner then reads all of its matches
through the trigram index and sorts them (20 ms at 1,000,000 customers) instead of walking
``ix_customers_updated`` until it has a page (1.5 ms). 1,000 entries make the estimate, and
so the plan, right (docs/performance.md, *Scaling*). Nothing to do on SQLite.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE customers ALTER COLUMN search_text SET STATISTICS 1000")
        op.execute("ANALYZE customers")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE customers ALTER COLUMN search_text SET STATISTICS -1")
