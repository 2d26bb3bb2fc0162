"""The benchmark's own PostgreSQL databases: created with a unique ``accord_bench_…`` name,
migrated with the app's own Alembic history, dropped afterwards. The maintenance URL is
used only for CREATE/DROP DATABASE, like the test suite does."""

from __future__ import annotations

import asyncio
import re
import secrets

import asyncpg
from sqlalchemy.engine import make_url

from app.repositories.schema import upgrade_to_head

FORBIDDEN = {"test", "postgres", "root", "template0", "template1"}
_NAME = re.compile(r"^accord_bench_[a-z0-9_]{1,40}$")


def new_name(label: str) -> str:
    return f"accord_bench_{secrets.token_hex(4)}_{label}"


def app_url(admin_url: str, name: str) -> str:
    """The SQLAlchemy URL (postgresql+asyncpg://…) of database ``name``."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def dsn(url: str) -> str:
    """asyncpg wants a plain postgresql:// DSN."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _checked(name: str) -> str:
    if name in FORBIDDEN or not _NAME.match(name):
        raise ValueError(f"refusing to touch database {name!r}")
    return name


async def _admin(admin_url: str, statement: str) -> None:
    conn = await asyncpg.connect(dsn(admin_url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def create(admin_url: str, name: str) -> str:
    """Create and migrate (``accord migrate`` = upgrade_to_head); returns the app URL."""
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{_checked(name)}"'))
    url = app_url(admin_url, name)
    upgrade_to_head(url)
    return url


def drop(admin_url: str, name: str) -> None:
    asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)'))
