"""Management reports (domain §10): when an approval step became current (its lead time
starts there) and when a change's implementation was completed (on-time implementation is
judged by it), and the indexes the reports' period and department filters use.

Existing rows: a later step became current when the step before it was decided; the first
step of a change's current round when its assessment was concluded (normal changes). What
cannot be known (emergency changes' first steps, earlier rounds' first steps, completions
before this revision) stays null and is left out of the figures, which say their ``n``.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.repositories.types

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cr_approval_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('started_at', app.repositories.types.UTCDateTime(
            timezone=True), nullable=True))
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('implemented_at', app.repositories.types.UTCDateTime(
            timezone=True), nullable=True))
    op.execute(
        "UPDATE cr_approval_steps SET started_at = (SELECT earlier.decided_at"
        " FROM cr_approval_steps AS earlier"
        " WHERE earlier.change_request_id = cr_approval_steps.change_request_id"
        " AND earlier.round = cr_approval_steps.round"
        " AND earlier.position = cr_approval_steps.position - 1)"
        " WHERE position > 1")
    op.execute(
        "UPDATE cr_approval_steps SET started_at = (SELECT c.concluded_at"
        " FROM change_requests AS c WHERE c.id = cr_approval_steps.change_request_id"
        " AND c.round = cr_approval_steps.round AND c.type = 'normal')"
        " WHERE position = 1")
    op.create_index('ix_change_requests_dept_created', 'change_requests',
                    ['department_id', 'created_at'], unique=False)
    op.create_index('ix_change_requests_created', 'change_requests', ['created_at'],
                    unique=False)
    op.create_index('ix_customer_timeline_type_time', 'customer_timeline',
                    ['type', 'occurred_at'], unique=False)
    live = sa.text("archived_at IS NULL AND merged_into IS NULL")
    op.create_index('ix_customers_report', 'customers',
                    ['department_id', 'owner_id', 'tier', 'stage', 'integrity_score',
                     'shared_with_department', 'id'], unique=False,
                    sqlite_where=live, postgresql_where=live)


def downgrade() -> None:
    op.drop_index('ix_customers_report', table_name='customers')
    op.drop_index('ix_customer_timeline_type_time', table_name='customer_timeline')
    op.drop_index('ix_change_requests_created', table_name='change_requests')
    op.drop_index('ix_change_requests_dept_created', table_name='change_requests')
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.drop_column('implemented_at')
    with op.batch_alter_table('cr_approval_steps', schema=None) as batch_op:
        batch_op.drop_column('started_at')
