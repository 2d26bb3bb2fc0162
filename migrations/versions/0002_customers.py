"""Customers, contacts, history, timeline, policies; substring search indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.repositories.types

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('customer_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('occurred_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('field', sa.String(length=100), nullable=False),
    sa.Column('old', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('new', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.Column('redacted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_history'))
    )
    with op.batch_alter_table('customer_history', schema=None) as batch_op:
        batch_op.create_index('ix_customer_history_contact', ['contact_id'], unique=False)
        batch_op.create_index('ix_customer_history_customer', ['customer_id', 'occurred_at', 'id'], unique=False)

    op.create_table('customer_timeline',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('occurred_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('entity_type', sa.String(length=50), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_timeline'))
    )
    with op.batch_alter_table('customer_timeline', schema=None) as batch_op:
        batch_op.create_index('ix_customer_timeline_customer', ['customer_id', 'occurred_at', 'id'], unique=False)

    op.create_table('policies',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('value', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_policies'))
    )
    op.create_table('customers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=True),
    sa.Column('industry', sa.String(length=100), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=False),
    sa.Column('shared_with_department', sa.Boolean(), nullable=False),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('needs', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('preferred_channel', sa.String(length=16), nullable=True),
    sa.Column('preferred_time', sa.String(length=100), nullable=False),
    sa.Column('custom_attributes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('external_refs', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('annual_revenue', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('strategic_importance', sa.SmallInteger(), nullable=True),
    sa.Column('growth_potential', sa.SmallInteger(), nullable=True),
    sa.Column('value_score', sa.Numeric(precision=5, scale=1), nullable=False),
    sa.Column('tier_computed', sa.String(length=1), nullable=False),
    sa.Column('tier_manual', sa.String(length=1), nullable=True),
    sa.Column('tier_manual_reason', sa.Text(), nullable=True),
    sa.Column('tier', sa.String(length=1), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('churn_reason', sa.String(length=32), nullable=True),
    sa.Column('churn_note', sa.Text(), nullable=True),
    sa.Column('integrity_score', sa.SmallInteger(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('archived_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('merged_into', sa.Uuid(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_customers_department_id_departments')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_customers_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_customers_credit_code', ['credit_code'], unique=False)
        batch_op.create_index('ix_customers_dept_updated', ['department_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_customers_integrity', ['integrity_score', 'id'], unique=False)
        batch_op.create_index('ix_customers_name', ['name', 'id'], unique=False)
        batch_op.create_index('ix_customers_owner_updated', ['owner_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_customers_stage_updated', ['stage', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_customers_tier_updated', ['tier', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_customers_updated', ['updated_at', 'id'], unique=False)

    op.create_table('contacts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('phones', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('emails', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('im_handle', sa.String(length=100), nullable=False),
    sa.Column('preferred_channel', sa.String(length=16), nullable=True),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.Column('erased_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_contacts_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_customer_id'), ['customer_id'], unique=False)

    op.create_table('customer_external_refs',
    sa.Column('system', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_external_refs_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('system', 'external_id', name=op.f('pk_customer_external_refs'))
    )
    with op.batch_alter_table('customer_external_refs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_external_refs_customer_id'), ['customer_id'], unique=False)

    op.create_table('customer_tags',
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('tag', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_tags_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', 'tag', name=op.f('pk_customer_tags'))
    )
    with op.batch_alter_table('customer_tags', schema=None) as batch_op:
        batch_op.create_index('ix_customer_tags_tag', ['tag', 'customer_id'], unique=False)

    op.create_table('contact_points',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=254), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_points_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_contact_points_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_points'))
    )
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_points_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_contact_points_value', ['kind', 'value'], unique=False)

    _create_search_index()


_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE customers_fts USING fts5(search_text, content='customers', "
    "content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN "
    "INSERT INTO customers_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN "
    "INSERT INTO customers_fts(customers_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); END",
    "CREATE TRIGGER customers_fts_update AFTER UPDATE OF search_text ON customers BEGIN "
    "INSERT INTO customers_fts(customers_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); "
    "INSERT INTO customers_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
]


def _create_search_index() -> None:
    """pg_trgm GIN on PostgreSQL; an external-content FTS5 trigram table kept in step by
    triggers on SQLite. (A later batch migration that rebuilds `customers` on SQLite must
    recreate these triggers and run `INSERT INTO customers_fts(customers_fts) VALUES
    ('rebuild')`.)"""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_customers_search_trgm ON customers "
                   "USING gin (search_text gin_trgm_ops)")
    else:
        for statement in _SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_customers_search_trgm")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS customers_fts_{name}")
        op.execute("DROP TABLE IF EXISTS customers_fts")
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_points_value')
        batch_op.drop_index(batch_op.f('ix_contact_points_contact_id'))

    op.drop_table('contact_points')
    with op.batch_alter_table('customer_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_tags_tag')

    op.drop_table('customer_tags')
    with op.batch_alter_table('customer_external_refs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_external_refs_customer_id'))

    op.drop_table('customer_external_refs')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_customer_id'))

    op.drop_table('contacts')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_updated')
        batch_op.drop_index('ix_customers_tier_updated')
        batch_op.drop_index('ix_customers_stage_updated')
        batch_op.drop_index('ix_customers_owner_updated')
        batch_op.drop_index('ix_customers_name')
        batch_op.drop_index('ix_customers_integrity')
        batch_op.drop_index('ix_customers_dept_updated')
        batch_op.drop_index('ix_customers_credit_code')
        batch_op.drop_index('ix_customers_created')

    op.drop_table('customers')
    op.drop_table('policies')
    with op.batch_alter_table('customer_timeline', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_timeline_customer')

    op.drop_table('customer_timeline')
    with op.batch_alter_table('customer_history', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_history_customer')
        batch_op.drop_index('ix_customer_history_contact')

    op.drop_table('customer_history')
