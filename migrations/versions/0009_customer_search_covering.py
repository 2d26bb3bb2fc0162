"""A covering index for the customer search's walk (PostgreSQL only).

A search term is in a small share of the customers, so the newest page of matches is found
by walking the customers from the most recently changed and testing each one's search
text, until a page is full (a few thousand rows, whatever the table's size). Through
``ix_customers_updated`` every row tested is a visit to the table, and at 1,000,000
customers those visits no longer stay cached. This index holds what the walk tests
(``search_text``, ``archived_at``) next to the order it walks, so the page's ids come from an
index-only scan and only the page's rows are read from the table
(``SqlCustomerRepository.list`` asks for the ids first; docs/performance.md, *Scaling*).
SQLite searches through its FTS5 table and needs nothing.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_customers_search_walk ON customers "
                   "(updated_at DESC, id DESC) INCLUDE (archived_at, search_text)")
        op.execute("ANALYZE customers")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_customers_search_walk")
