"""Alembic environment: one history for SQLite and PostgreSQL (batch mode on SQLite)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import app.repositories.tables_bulk
import app.repositories.tables_change_requests
import app.repositories.tables_customer_summary
import app.repositories.tables_customers
import app.repositories.tables_feedback
import app.repositories.tables_handovers
import app.repositories.tables_interactions
import app.repositories.tables_knowledge
import app.repositories.tables_notifications
import app.repositories.tables_plans
import app.repositories.tables_risks
import app.repositories.tables_training
import app.repositories.tables_worker  # noqa: F401
from app.repositories.tables import metadata
from app.settings import get_settings

config = context.config


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


# Search indexes are engine-specific DDL (see revisions 0002, 0005), not part of the metadata.
_ENGINE_SPECIFIC = ("customers_fts", "ix_customers_search_trgm", "knowledge_articles_fts",
                    "ix_knowledge_articles_search_trgm")


def _include(obj: object, name: str | None, type_: str, reflected: bool,
             compare_to: object) -> bool:
    return not (name and name.startswith(_ENGINE_SPECIFIC))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_include,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
