"""An approval step's clock starts when it becomes current (domain §3): its ``due_at`` is
set then, from the moment the previous step was decided, and is null while an earlier step
is still pending. Pending steps behind another pending step lose the due time they were
given with the whole chain, so they are neither shown nor escalated as late.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

import app.repositories.types

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cr_approval_steps', schema=None) as batch_op:
        batch_op.alter_column('due_at', existing_type=app.repositories.types.UTCDateTime(
            timezone=True), nullable=True)
    op.execute(
        "UPDATE cr_approval_steps SET due_at = NULL WHERE status = 'pending' AND EXISTS ("
        "SELECT 1 FROM cr_approval_steps AS earlier"
        " WHERE earlier.change_request_id = cr_approval_steps.change_request_id"
        " AND earlier.round = cr_approval_steps.round AND earlier.status = 'pending'"
        " AND earlier.position < cr_approval_steps.position)")


def downgrade() -> None:
    op.execute("UPDATE cr_approval_steps SET due_at = (SELECT c.updated_at FROM "
               "change_requests AS c WHERE c.id = cr_approval_steps.change_request_id) "
               "WHERE due_at IS NULL")
    with op.batch_alter_table('cr_approval_steps', schema=None) as batch_op:
        batch_op.alter_column('due_at', existing_type=app.repositories.types.UTCDateTime(
            timezone=True), nullable=False)
