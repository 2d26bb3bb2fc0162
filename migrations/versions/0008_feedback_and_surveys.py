"""Feedback items, survey templates, invitations, responses and scored answers, and the
last health computed per customer.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.repositories.types

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('survey_templates',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('questions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('archived_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_survey_templates_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_templates'))
    )
    op.create_table('customer_health',
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('below_threshold', sa.Boolean(), nullable=False),
    sa.Column('computed_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_health_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_health'))
    )
    op.create_table('feedback_items',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('change_request_id', sa.Uuid(), nullable=True),
    sa.Column('plan_id', sa.Uuid(), nullable=True),
    sa.Column('handover_id', sa.Uuid(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('received_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acknowledge_due_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolve_due_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.Column('confirmed_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmation', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('reopened_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('acknowledge_breached_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolve_breached_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_feedback_items_created_by_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_feedback_items_customer_id_customers')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_feedback_items_department_id_departments')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_feedback_items_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_items'))
    )
    with op.batch_alter_table('feedback_items', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_items_customer', ['customer_id', 'state'], unique=False)
        batch_op.create_index('ix_feedback_items_department', ['department_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_feedback_items_owner', ['owner_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_feedback_items_received', ['received_at'], unique=False)
        batch_op.create_index('ix_feedback_items_state_due', ['state', 'resolve_due_at'], unique=False)
        batch_op.create_index('ix_feedback_items_updated', ['updated_at', 'id'], unique=False)

    op.create_table('survey_invitations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('template_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.Uuid(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('responded_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_survey_invitations_customer_id_customers')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_survey_invitations_department_id_departments')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_survey_invitations_owner_id_users')),
    sa.ForeignKeyConstraint(['template_id'], ['survey_templates.id'], name=op.f('fk_survey_invitations_template_id_survey_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_survey_invitations_token_hash'))
    )
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.create_index('ix_survey_invitations_customer', ['customer_id'], unique=False)
        batch_op.create_index('ix_survey_invitations_template', ['template_id', 'created_at'], unique=False)
        batch_op.create_index('ux_survey_invitations_source', ['trigger', 'source_id', 'contact_id'], unique=True)

    op.create_table('survey_responses',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('invitation_id', sa.Uuid(), nullable=False),
    sa.Column('template_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('submitted_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['survey_invitations.id'], name=op.f('fk_survey_responses_invitation_id_survey_invitations')),
    sa.ForeignKeyConstraint(['template_id'], ['survey_templates.id'], name=op.f('fk_survey_responses_template_id_survey_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    sa.UniqueConstraint('invitation_id', name=op.f('uq_survey_responses_invitation_id'))
    )
    op.create_table('survey_scores',
    sa.Column('response_id', sa.Uuid(), nullable=False),
    sa.Column('question_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.SmallInteger(), nullable=False),
    sa.Column('template_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('tier', sa.String(length=1), nullable=False),
    sa.Column('submitted_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['survey_responses.id'], name=op.f('fk_survey_scores_response_id_survey_responses')),
    sa.PrimaryKeyConstraint('response_id', 'question_id', name=op.f('pk_survey_scores'))
    )
    with op.batch_alter_table('survey_scores', schema=None) as batch_op:
        batch_op.create_index('ix_survey_scores_customer', ['customer_id', 'submitted_at'], unique=False)
        batch_op.create_index('ix_survey_scores_kind_time', ['kind', 'submitted_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('survey_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_scores_kind_time')
        batch_op.drop_index('ix_survey_scores_customer')

    op.drop_table('survey_scores')
    op.drop_table('survey_responses')
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.drop_index('ux_survey_invitations_source')
        batch_op.drop_index('ix_survey_invitations_template')
        batch_op.drop_index('ix_survey_invitations_customer')

    op.drop_table('survey_invitations')
    with op.batch_alter_table('feedback_items', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_items_updated')
        batch_op.drop_index('ix_feedback_items_state_due')
        batch_op.drop_index('ix_feedback_items_received')
        batch_op.drop_index('ix_feedback_items_owner')
        batch_op.drop_index('ix_feedback_items_department')
        batch_op.drop_index('ix_feedback_items_customer')

    op.drop_table('feedback_items')
    op.drop_table('customer_health')
    op.drop_table('survey_templates')
