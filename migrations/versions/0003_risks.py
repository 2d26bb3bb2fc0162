"""The risk register (风险登记).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.repositories.types

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('risks',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=True),
    sa.Column('change_request_id', sa.Uuid(), nullable=True),
    sa.Column('handover_id', sa.Uuid(), nullable=True),
    sa.Column('plan_id', sa.Uuid(), nullable=True),
    sa.Column('likelihood', sa.SmallInteger(), nullable=False),
    sa.Column('impact', sa.SmallInteger(), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=False),
    sa.Column('mitigation', sa.Text(), nullable=False),
    sa.Column('contingency_plan', sa.Text(), nullable=False),
    sa.Column('early_warning', sa.Text(), nullable=False),
    sa.Column('next_review_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_risks_customer_id_customers')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_risks_department_id_departments')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_risks_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risks'))
    )
    with op.batch_alter_table('risks', schema=None) as batch_op:
        batch_op.create_index('ix_risks_customer', ['customer_id'], unique=False)
        batch_op.create_index('ix_risks_department_updated', ['department_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_risks_owner_updated', ['owner_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_risks_status_level', ['status', 'level'], unique=False)
        batch_op.create_index('ix_risks_updated', ['updated_at', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('risks', schema=None) as batch_op:
        batch_op.drop_index('ix_risks_updated')
        batch_op.drop_index('ix_risks_status_level')
        batch_op.drop_index('ix_risks_owner_updated')
        batch_op.drop_index('ix_risks_department_updated')
        batch_op.drop_index('ix_risks_customer')

    op.drop_table('risks')
