"""Change requests: the request, assessment panel, approval steps, tasks, progress,
communications and delegations.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.repositories.types

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('delegations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('delegator_id', sa.Uuid(), nullable=False),
    sa.Column('deputy_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('starts_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['delegator_id'], ['users.id'], name=op.f('fk_delegations_delegator_id_users')),
    sa.ForeignKeyConstraint(['deputy_id'], ['users.id'], name=op.f('fk_delegations_deputy_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegations'))
    )
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegations_delegator_id'), ['delegator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delegations_deputy_id'), ['deputy_id'], unique=False)

    op.create_table('change_requests',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('requester_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('expected_effect', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('requested_completion_date', sa.Date(), nullable=True),
    sa.Column('attachments', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('estimated_cost', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('estimated_schedule_days', sa.Integer(), nullable=True),
    sa.Column('likelihood', sa.SmallInteger(), nullable=True),
    sa.Column('impact', sa.SmallInteger(), nullable=True),
    sa.Column('risk_level', sa.String(length=16), nullable=True),
    sa.Column('recommendation', sa.String(length=16), nullable=True),
    sa.Column('assessment_summary', sa.Text(), nullable=True),
    sa.Column('concluded_by', sa.Uuid(), nullable=True),
    sa.Column('concluded_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('goals_met', sa.String(length=8), nullable=True),
    sa.Column('actual_cost', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('actual_schedule_days', sa.Integer(), nullable=True),
    sa.Column('customer_satisfaction', sa.SmallInteger(), nullable=True),
    sa.Column('lessons_learned', sa.Text(), nullable=True),
    sa.Column('reviewed_by', sa.Uuid(), nullable=True),
    sa.Column('reviewed_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('emergency_reviewed_by', sa.Uuid(), nullable=True),
    sa.Column('emergency_reviewed_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('knowledge_article_id', sa.Uuid(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_change_requests_customer_id_customers')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_change_requests_department_id_departments')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_change_requests_owner_id_users')),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_change_requests_requester_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_requests'))
    )
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.create_index('ix_change_requests_customer', ['customer_id'], unique=False)
        batch_op.create_index('ix_change_requests_dept_updated', ['department_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_change_requests_owner_updated', ['owner_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_change_requests_state', ['state', 'updated_at'], unique=False)
        batch_op.create_index('ix_change_requests_updated', ['updated_at', 'id'], unique=False)

    op.create_table('cr_approval_steps',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('change_request_id', sa.Uuid(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=True),
    sa.Column('due_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('on_behalf_of', sa.Uuid(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('escalated_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['change_request_id'], ['change_requests.id'], name=op.f('fk_cr_approval_steps_change_request_id_change_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cr_approval_steps')),
    sa.UniqueConstraint('change_request_id', 'round', 'position', name='uq_cr_approval_steps_position')
    )
    with op.batch_alter_table('cr_approval_steps', schema=None) as batch_op:
        batch_op.create_index('ix_cr_approval_steps_pending', ['status', 'due_at'], unique=False)

    op.create_table('cr_assessments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('change_request_id', sa.Uuid(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('assessor_id', sa.Uuid(), nullable=False),
    sa.Column('assessor_role', sa.String(length=32), nullable=False),
    sa.Column('necessity', sa.SmallInteger(), nullable=False),
    sa.Column('feasibility', sa.SmallInteger(), nullable=False),
    sa.Column('scope_impact', sa.Text(), nullable=False),
    sa.Column('schedule_days', sa.Integer(), nullable=False),
    sa.Column('cost', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('resources', sa.Text(), nullable=False),
    sa.Column('likelihood', sa.SmallInteger(), nullable=False),
    sa.Column('impact', sa.SmallInteger(), nullable=False),
    sa.Column('recommendation', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessor_id'], ['users.id'], name=op.f('fk_cr_assessments_assessor_id_users')),
    sa.ForeignKeyConstraint(['change_request_id'], ['change_requests.id'], name=op.f('fk_cr_assessments_change_request_id_change_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cr_assessments')),
    sa.UniqueConstraint('change_request_id', 'round', 'assessor_id', name='uq_cr_assessments_one_per_assessor')
    )
    op.create_table('cr_communications',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('change_request_id', sa.Uuid(), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('reported_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['change_request_id'], ['change_requests.id'], name=op.f('fk_cr_communications_change_request_id_change_requests')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_cr_communications_contact_id_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cr_communications'))
    )
    with op.batch_alter_table('cr_communications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cr_communications_change_request_id'), ['change_request_id'], unique=False)

    op.create_table('cr_customer_inputs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('change_request_id', sa.Uuid(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=False),
    sa.Column('opinion', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['change_request_id'], ['change_requests.id'], name=op.f('fk_cr_customer_inputs_change_request_id_change_requests')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_cr_customer_inputs_contact_id_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cr_customer_inputs'))
    )
    with op.batch_alter_table('cr_customer_inputs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cr_customer_inputs_change_request_id'), ['change_request_id'], unique=False)

    op.create_table('cr_progress',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('change_request_id', sa.Uuid(), nullable=False),
    sa.Column('percent', sa.SmallInteger(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['change_request_id'], ['change_requests.id'], name=op.f('fk_cr_progress_change_request_id_change_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cr_progress'))
    )
    with op.batch_alter_table('cr_progress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cr_progress_change_request_id'), ['change_request_id'], unique=False)

    op.create_table('cr_tasks',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('change_request_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('assignee_id', sa.Uuid(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('waive_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_cr_tasks_assignee_id_users')),
    sa.ForeignKeyConstraint(['change_request_id'], ['change_requests.id'], name=op.f('fk_cr_tasks_change_request_id_change_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cr_tasks'))
    )
    with op.batch_alter_table('cr_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cr_tasks_change_request_id'), ['change_request_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('cr_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cr_tasks_change_request_id'))

    op.drop_table('cr_tasks')
    with op.batch_alter_table('cr_progress', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cr_progress_change_request_id'))

    op.drop_table('cr_progress')
    with op.batch_alter_table('cr_customer_inputs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cr_customer_inputs_change_request_id'))

    op.drop_table('cr_customer_inputs')
    with op.batch_alter_table('cr_communications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cr_communications_change_request_id'))

    op.drop_table('cr_communications')
    op.drop_table('cr_assessments')
    with op.batch_alter_table('cr_approval_steps', schema=None) as batch_op:
        batch_op.drop_index('ix_cr_approval_steps_pending')

    op.drop_table('cr_approval_steps')
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_change_requests_updated')
        batch_op.drop_index('ix_change_requests_state')
        batch_op.drop_index('ix_change_requests_owner_updated')
        batch_op.drop_index('ix_change_requests_dept_updated')
        batch_op.drop_index('ix_change_requests_customer')

    op.drop_table('change_requests')
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegations_deputy_id'))
        batch_op.drop_index(batch_op.f('ix_delegations_delegator_id'))

    op.drop_table('delegations')
