"""Knowledge base (知识库): articles, their tags and links; substring search index.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.repositories.types

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('knowledge_articles',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('change_request_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('handover_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('customer_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.repositories.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('archived_at', app.repositories.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_knowledge_articles_author_id_users')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_knowledge_articles_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_articles'))
    )
    with op.batch_alter_table('knowledge_articles', schema=None) as batch_op:
        batch_op.create_index('ix_knowledge_articles_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_knowledge_articles_kind_updated', ['kind', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_knowledge_articles_title', ['title', 'id'], unique=False)
        batch_op.create_index('ix_knowledge_articles_updated', ['updated_at', 'id'], unique=False)

    op.create_table('knowledge_article_links',
    sa.Column('article_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('target_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['knowledge_articles.id'], name=op.f('fk_knowledge_article_links_article_id_knowledge_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', 'kind', 'target_id', name=op.f('pk_knowledge_article_links'))
    )
    with op.batch_alter_table('knowledge_article_links', schema=None) as batch_op:
        batch_op.create_index('ix_knowledge_article_links_target', ['kind', 'target_id'], unique=False)

    op.create_table('knowledge_article_tags',
    sa.Column('article_id', sa.Uuid(), nullable=False),
    sa.Column('tag', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['knowledge_articles.id'], name=op.f('fk_knowledge_article_tags_article_id_knowledge_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', 'tag', name=op.f('pk_knowledge_article_tags'))
    )
    with op.batch_alter_table('knowledge_article_tags', schema=None) as batch_op:
        batch_op.create_index('ix_knowledge_article_tags_tag', ['tag'], unique=False)

    _create_search_index()


# The same search as customers' (revision 0002), on the articles' search_text.
_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE knowledge_articles_fts USING fts5(search_text, "
    "content='knowledge_articles', content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER knowledge_articles_fts_insert AFTER INSERT ON knowledge_articles BEGIN "
    "INSERT INTO knowledge_articles_fts(rowid, search_text) "
    "VALUES (new.rowid, new.search_text); END",
    "CREATE TRIGGER knowledge_articles_fts_delete AFTER DELETE ON knowledge_articles BEGIN "
    "INSERT INTO knowledge_articles_fts(knowledge_articles_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); END",
    "CREATE TRIGGER knowledge_articles_fts_update AFTER UPDATE OF search_text "
    "ON knowledge_articles BEGIN "
    "INSERT INTO knowledge_articles_fts(knowledge_articles_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); "
    "INSERT INTO knowledge_articles_fts(rowid, search_text) "
    "VALUES (new.rowid, new.search_text); END",
]


def _create_search_index() -> None:
    """pg_trgm GIN on PostgreSQL; an external-content FTS5 trigram table kept in step by
    triggers on SQLite (app/repositories/search.py reads both)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_knowledge_articles_search_trgm ON knowledge_articles "
                   "USING gin (search_text gin_trgm_ops)")
    else:
        for statement in _SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_knowledge_articles_search_trgm")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS knowledge_articles_fts_{name}")
        op.execute("DROP TABLE IF EXISTS knowledge_articles_fts")
    with op.batch_alter_table('knowledge_article_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_knowledge_article_tags_tag')

    op.drop_table('knowledge_article_tags')
    with op.batch_alter_table('knowledge_article_links', schema=None) as batch_op:
        batch_op.drop_index('ix_knowledge_article_links_target')

    op.drop_table('knowledge_article_links')
    with op.batch_alter_table('knowledge_articles', schema=None) as batch_op:
        batch_op.drop_index('ix_knowledge_articles_updated')
        batch_op.drop_index('ix_knowledge_articles_title')
        batch_op.drop_index('ix_knowledge_articles_kind_updated')
        batch_op.drop_index('ix_knowledge_articles_created')

    op.drop_table('knowledge_articles')
