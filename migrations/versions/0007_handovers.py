"""Handovers: batches, the handover of one customer, its checklist items, findings,
signatures and stakeholder notifications.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.repositories.types

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('handover_batches',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('from_manager_id', sa.Uuid(), nullable=False),
    sa.Column('to_manager_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('planned_date', sa.Date(), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_handover_batches_created_by_users')),
    sa.ForeignKeyConstraint(['from_manager_id'], ['users.id'], name=op.f('fk_handover_batches_from_manager_id_users')),
    sa.ForeignKeyConstraint(['to_manager_id'], ['users.id'], name=op.f('fk_handover_batches_to_manager_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_batches'))
    )
    op.create_table('handovers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('batch_id', sa.Uuid(), nullable=True),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('customer_name', sa.String(length=200), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=False),
    sa.Column('from_manager_id', sa.Uuid(), nullable=False),
    sa.Column('to_manager_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('planned_date', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('level_reasons', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('likelihood', sa.SmallInteger(), nullable=False),
    sa.Column('impact', sa.SmallInteger(), nullable=False),
    sa.Column('risk_level', sa.String(length=16), nullable=False),
    sa.Column('risk_factors', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('notified_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('preparation_started_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('meeting', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('meeting_held_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('signed_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('transferred_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('transfer', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('follow_up_due', sa.Date(), nullable=True),
    sa.Column('follow_up', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('followed_up_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('follow_up_escalated_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pulse_due_on', sa.Date(), nullable=True),
    sa.Column('cancelled_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['handover_batches.id'], name=op.f('fk_handovers_batch_id_handover_batches')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_handovers_created_by_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_handovers_customer_id_customers')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_handovers_department_id_departments')),
    sa.ForeignKeyConstraint(['from_manager_id'], ['users.id'], name=op.f('fk_handovers_from_manager_id_users')),
    sa.ForeignKeyConstraint(['to_manager_id'], ['users.id'], name=op.f('fk_handovers_to_manager_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handovers'))
    )
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.create_index('ix_handovers_batch', ['batch_id'], unique=False)
        batch_op.create_index('ix_handovers_department', ['department_id', 'updated_at'], unique=False)
        batch_op.create_index('ix_handovers_follow_up_due', ['follow_up_due'], unique=False)
        batch_op.create_index('ix_handovers_from_manager', ['from_manager_id'], unique=False)
        batch_op.create_index('ix_handovers_to_manager', ['to_manager_id'], unique=False)
        batch_op.create_index('ix_handovers_updated', ['updated_at', 'id'], unique=False)
        batch_op.create_index('ux_handovers_open_customer', ['customer_id'], unique=True, sqlite_where=sa.text("state IN ('draft', 'notified', 'preparing', 'meeting_held', 'signed')"), postgresql_where=sa.text("state IN ('draft', 'notified', 'preparing', 'meeting_held', 'signed')"))

    op.create_table('handover_findings',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('handover_id', sa.Uuid(), nullable=False),
    sa.Column('item_key', sa.String(length=48), nullable=False),
    sa.Column('raised_by', sa.Uuid(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('raised_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_by', sa.Uuid(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('resolved_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'], name=op.f('fk_handover_findings_handover_id_handovers')),
    sa.ForeignKeyConstraint(['raised_by'], ['users.id'], name=op.f('fk_handover_findings_raised_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_findings'))
    )
    with op.batch_alter_table('handover_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_findings_handover_id'), ['handover_id'], unique=False)

    op.create_table('handover_items',
    sa.Column('handover_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=48), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('summary', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('handing_over_verified_by', sa.Uuid(), nullable=True),
    sa.Column('handing_over_verified_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('receiving_verified_by', sa.Uuid(), nullable=True),
    sa.Column('receiving_verified_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'], name=op.f('fk_handover_items_handover_id_handovers')),
    sa.PrimaryKeyConstraint('handover_id', 'key', name=op.f('pk_handover_items'))
    )
    op.create_table('handover_notifications',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('handover_id', sa.Uuid(), nullable=False),
    sa.Column('stakeholder', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('notified_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'], name=op.f('fk_handover_notifications_handover_id_handovers')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_handover_notifications_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_notifications'))
    )
    with op.batch_alter_table('handover_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_notifications_handover_id'), ['handover_id'], unique=False)

    op.create_table('handover_signatures',
    sa.Column('handover_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('signer_id', sa.Uuid(), nullable=False),
    sa.Column('on_behalf_of', sa.Uuid(), nullable=True),
    sa.Column('signed_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'], name=op.f('fk_handover_signatures_handover_id_handovers')),
    sa.ForeignKeyConstraint(['signer_id'], ['users.id'], name=op.f('fk_handover_signatures_signer_id_users')),
    sa.PrimaryKeyConstraint('handover_id', 'role', name=op.f('pk_handover_signatures')),
    sa.UniqueConstraint('handover_id', 'signer_id', name=op.f('uq_handover_signatures_handover_id'))
    )


def downgrade() -> None:
    op.drop_table('handover_signatures')
    with op.batch_alter_table('handover_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_notifications_handover_id'))

    op.drop_table('handover_notifications')
    op.drop_table('handover_items')
    with op.batch_alter_table('handover_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_findings_handover_id'))

    op.drop_table('handover_findings')
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_index('ux_handovers_open_customer', sqlite_where=sa.text("state IN ('draft', 'notified', 'preparing', 'meeting_held', 'signed')"), postgresql_where=sa.text("state IN ('draft', 'notified', 'preparing', 'meeting_held', 'signed')"))
        batch_op.drop_index('ix_handovers_updated')
        batch_op.drop_index('ix_handovers_to_manager')
        batch_op.drop_index('ix_handovers_from_manager')
        batch_op.drop_index('ix_handovers_follow_up_due')
        batch_op.drop_index('ix_handovers_department')
        batch_op.drop_index('ix_handovers_batch')

    op.drop_table('handovers')
    op.drop_table('handover_batches')
