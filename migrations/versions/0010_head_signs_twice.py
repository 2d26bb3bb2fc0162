"""A head of the department may sign a handover twice: as the head and for a departed
handing-over manager (spec §4, resignation). The primary key (handover, role) still keeps
one signature per capacity; the signer is no longer unique per handover.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('handover_signatures', schema=None) as batch_op:
        batch_op.drop_constraint('uq_handover_signatures_handover_id', type_='unique')


def downgrade() -> None:
    with op.batch_alter_table('handover_signatures', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_handover_signatures_handover_id',
                                          ['handover_id', 'signer_id'])
