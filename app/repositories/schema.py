"""Schema management: Alembic upgrades and the readiness check (database up, schema at head)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app.repositories.database import Engines

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    """Synchronous (Alembic runs its own event loop): call it outside a running loop."""
    command.upgrade(alembic_config(database_url), "head")


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


async def readiness(engines: Engines, expected_head: str | None) -> dict[str, Any]:
    report: dict[str, Any] = {"status": "ok", "database": "ok", "schema_revision": None,
                              "schema_head": expected_head}
    try:
        async with engines.read.connect() as conn:
            await conn.execute(text("SELECT 1"))
            try:
                report["schema_revision"] = await conn.scalar(
                    text("SELECT version_num FROM alembic_version"))
            except Exception:  # table missing: never migrated
                report["schema_revision"] = None
    except Exception:
        report.update(status="unavailable", database="unreachable")
        return report
    if report["schema_revision"] != expected_head:
        report["status"] = "schema_behind"
    return report
