"""The audit log no one can rewrite (issue 14, item 6): the database itself refuses to
change or remove an entry, and a chain rewritten and re-hashed by someone who lifted that
refusal is caught by a checkpoint signed with a key the database never holds.

Each test corrupts a database of its own (``fresh_database``)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from fastapi import FastAPI
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from app.cli import cli
from app.domain.audit.chain import GENESIS_HASH, entry_hash
from app.repositories.tables import audit_checkpoints, audit_head, audit_log
from app.services.ports import RequestContext
from app.settings import get_settings
from tests.conftest import Database, client_for
from tests.conftest import test_app as app_for
from tests.conftest import test_settings as settings_for
from tests.db import tampering
from tests.support import Actor, TestClock, admin_and_auditor, unique, verify_chain

KEY = "an-audit-checkpoint-key-of-forty-characters"
HASHED = ("occurred_at", "actor_id", "actor_roles", "action", "entity_type", "entity_id",
          "before", "after", "request_id", "client_addr")


async def _seeded(client: httpx.AsyncClient, app: FastAPI) -> tuple[Actor, Actor]:
    admin, auditor = await admin_and_auditor(client, app)
    for _ in range(3):
        await _write(client, admin)
    return admin, auditor


async def _write(client: httpx.AsyncClient, admin: Actor) -> None:
    created = await client.post("/api/v1/departments", headers=admin.headers,
                                json={"name": unique("部门")})
    assert created.status_code == 201, created.text


async def _rewrite_and_rehash(url: str, seq: int) -> None:
    """What an attacker with the owner's access does: change entry ``seq``, recompute
    every hash from it on and move the head, so the chain alone verifies again."""
    async with tampering(url) as conn:
        entries = (await conn.execute(select(audit_log).order_by(audit_log.c.seq))).all()
        prev = GENESIS_HASH
        for entry in entries:
            content = {name: getattr(entry, name) for name in HASHED}
            if entry.seq == seq:
                content["after"] = {"name": "forged"}
            digest = entry_hash(prev, seq=entry.seq, **content)
            await conn.execute(update(audit_log).where(audit_log.c.seq == entry.seq)
                               .values(after=content["after"], prev_hash=prev, hash=digest))
            prev = digest
        await conn.execute(update(audit_head).values(seq=entries[-1].seq, hash=prev))


# the database refuses ------------------------------------------------------------------

async def test_the_database_refuses_to_update_or_delete_an_entry(
        fresh_app: FastAPI, fresh_database: Database, clock: TestClock) -> None:
    """Whoever connects, the service's own role included: the triggers of migration 0013
    refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of entries and checkpoints;
    appending still works."""
    async with client_for(fresh_app) as client:
        admin, auditor = await _seeded(client, fresh_app)
        last = (await verify_chain(client, auditor))["last_seq"]
        engine = create_async_engine(fresh_database.url)
        try:
            async with engine.begin() as conn:  # appending is what the tables are for
                await conn.execute(insert(audit_checkpoints).values(
                    seq=1, hash="a" * 64, at=clock.now(), signature="b" * 64))
            refusals = [update(audit_log).where(audit_log.c.seq == 2).values(action="x"),
                        delete(audit_log).where(audit_log.c.seq == last),
                        delete(audit_log),
                        update(audit_checkpoints).values(hash="x"),
                        delete(audit_checkpoints)]
            if fresh_database.engine == "postgresql":
                refusals += [text("TRUNCATE audit_log"), text("TRUNCATE audit_checkpoints")]
            for statement in refusals:
                with pytest.raises(DBAPIError, match="append-only") as refused:
                    async with engine.begin() as conn:
                        await conn.execute(statement)
                if fresh_database.engine == "postgresql":
                    assert refused.value.orig.sqlstate == "42501"  # type: ignore[union-attr]
            async with engine.connect() as conn:
                stored = (await conn.execute(select(audit_log.c.seq, audit_log.c.action)
                                             .order_by(audit_log.c.seq))).all()
        finally:
            await engine.dispose()
        assert [seq for seq, _ in stored] == list(range(1, last + 1))
        assert "x" not in {action for _, action in stored}

        await _write(client, admin)
        body = await verify_chain(client, auditor)
        assert (body["intact"], body["last_seq"]) == (True, last + 1)


# signed checkpoints ----------------------------------------------------------------------

async def test_a_rewritten_rehashed_chain_is_caught_by_the_signed_checkpoint(
        fresh_database: Database, clock: TestClock) -> None:
    keyed = app_for(settings_for(fresh_database.url, audit_checkpoint_key=KEY), clock=clock)
    keyless = app_for(settings_for(fresh_database.url), clock=clock)
    try:
        async with client_for(keyed) as client, client_for(keyless) as without_key:
            admin, auditor = await _seeded(client, keyed)
            checkpoint = await keyed.state.services.audit.checkpoint(RequestContext(None, "t"))
            last = checkpoint.seq
            assert (await verify_chain(client, auditor)) == {
                "intact": True, "entries_checked": last, "last_seq": last, "breaks": [],
                "checkpoints_checked": 1, "anchored_seq": last}
            await _write(client, admin)  # entries after the checkpoint

            await _rewrite_and_rehash(fresh_database.url, last - 2)

            fooled = await verify_chain(without_key, auditor)  # the chain alone: intact
            assert (fooled["intact"], fooled["breaks"]) == (True, [])
            caught = await verify_chain(client, auditor)
            assert caught == {"intact": False, "entries_checked": last + 1,
                              "last_seq": last + 1,
                              "breaks": [{"seq": last, "problem": "checkpoint_mismatch"}],
                              "checkpoints_checked": 1, "anchored_seq": None}

            # A checkpoint planted for the forged chain is not signed with the key.
            async with tampering(fresh_database.url) as conn:
                head = (await conn.execute(select(audit_head))).one()
                await conn.execute(insert(audit_checkpoints).values(
                    seq=head.seq, hash=head.hash, at=clock.now(), signature="0" * 64))
            planted = await verify_chain(client, auditor)
            assert {"seq": head.seq, "problem": "checkpoint_forged"} in planted["breaks"]
    finally:
        await keyed.state.engines.dispose()
        await keyless.state.engines.dispose()


async def _accord(url: str, *args: str, key: str | None = KEY) -> Result:
    """``accord audit …`` as an operator runs it, configured by ``ACCORD_*`` variables (in
    a thread: the command runs its own event loop)."""
    env = {"ACCORD_DATABASE_URL": url, "ACCORD_LOG_LEVEL": "WARNING",
           "ACCORD_AUDIT_CHECKPOINT_KEY": key, "ACCORD_ENV": "development"}
    get_settings.cache_clear()
    try:
        return await asyncio.to_thread(CliRunner().invoke, cli, ["audit", *args], env=env)
    finally:
        get_settings.cache_clear()


async def test_an_exported_checkpoint_catches_a_rewrite_whose_stored_checkpoints_are_gone(
        fresh_app: FastAPI, fresh_database: Database, tmp_path: Path) -> None:
    """The export is the anchor outside the database: removing every stored checkpoint
    as well leaves the API's verification without one, not the file's holder."""
    async with client_for(fresh_app) as client:
        _, auditor = await _seeded(client, fresh_app)
        exported = tmp_path / "checkpoint.json"
        taken = await _accord(fresh_database.url, "checkpoint", "--output", str(exported))
        assert taken.exit_code == 0, taken.output
        checkpoint = json.loads(exported.read_text())
        last = (await verify_chain(client, auditor))["last_seq"]
        assert (checkpoint["seq"], checkpoint["entries"]) == (last, last)
        assert set(checkpoint) == {"format", "algorithm", "seq", "entries", "hash", "at",
                                   "signature"}
        honest = await _accord(fresh_database.url, "verify", "--checkpoint", str(exported))
        assert honest.exit_code == 0 and "intact" in honest.output, honest.output

        await _rewrite_and_rehash(fresh_database.url, 2)
        async with tampering(fresh_database.url) as conn:
            await conn.execute(delete(audit_checkpoints))

        caught = await _accord(fresh_database.url, "verify", "--checkpoint", str(exported))
        assert caught.exit_code == 1, caught.output
        assert f"entry {last}: checkpoint_mismatch" in caught.output
        other_key = await _accord(fresh_database.url, "verify", "--checkpoint", str(exported),
                            key="another-key-of-at-least-thirty-two-characters")
        assert other_key.exit_code == 2 and "not a checkpoint signed" in other_key.output
        keyless = await _accord(fresh_database.url, "checkpoint", key=None)
        assert keyless.exit_code == 2 and "ACCORD_AUDIT_CHECKPOINT_KEY" in keyless.output


# the documented role ----------------------------------------------------------------------

def _documented_grants(role: str) -> list[str]:
    """The grants docs/audit.md tells an operator to run, for ``role`` instead of
    accord_app (the statements run connected to the database, after the migration)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text("utf-8")
    sql = text.split("```sql", 1)[1].split("```", 1)[0]
    statements = [s.strip() for s in " ".join(
        line.split("--", 1)[0] for line in sql.splitlines()).split(";") if s.strip()]
    run = [s for s in statements if s.startswith(("GRANT", "REVOKE", "ALTER DEFAULT"))]
    assert len(run) >= 5, statements
    return [s.replace("accord_app", role) for s in run]


@pytest.mark.postgres_only
async def test_the_documented_service_role_can_neither_change_entries_nor_lift_the_triggers(
        fresh_app: FastAPI, fresh_database: Database) -> None:
    async with client_for(fresh_app) as client:
        await _seeded(client, fresh_app)
    role = f"accord_app_{uuid.uuid4().hex[:10]}"
    engine = create_async_engine(fresh_database.url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(f"CREATE ROLE {role} NOLOGIN")
            for statement in _documented_grants(role):
                await conn.exec_driver_sql(statement.replace("accord_owner", "postgres"))
        refused = ["UPDATE audit_log SET action = 'x' WHERE seq = 1",
                   "DELETE FROM audit_log WHERE seq = 1", "TRUNCATE audit_log",
                   "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
                   "DROP TRIGGER audit_log_append_only ON audit_log",
                   "SET session_replication_role = replica"]
        for statement in refused:
            with pytest.raises(DBAPIError) as failure:
                async with engine.begin() as conn:
                    await conn.exec_driver_sql(f"SET LOCAL ROLE {role}")
                    await conn.exec_driver_sql(statement)
            assert failure.value.orig.sqlstate == "42501", statement  # type: ignore[union-attr]
        async with engine.begin() as conn:  # what the service does still works
            await conn.exec_driver_sql(f"SET LOCAL ROLE {role}")
            await conn.exec_driver_sql("UPDATE audit_head SET seq = seq WHERE id = 1")
            await conn.exec_driver_sql("UPDATE departments SET version = version")
            assert await conn.scalar(text("SELECT count(*) FROM audit_log")) > 0
    finally:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(f"DROP OWNED BY {role}")
            await conn.exec_driver_sql(f"DROP ROLE {role}")
        await engine.dispose()
