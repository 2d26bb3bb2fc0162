"""Test fixtures: a real database per engine (SQLite file and a fresh PostgreSQL database),
the real app on top, and httpx talking to it through the ASGI transport.

Every API test runs once per engine. PostgreSQL is found at ``ACCORD_TEST_PG_URL``
(default ``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``, used only to create and
drop a uniquely named database). Without it the PostgreSQL half is skipped with a notice,
except under ``CI=true``, where a missing PostgreSQL is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from app.adapters.passwords import Argon2PasswordHasher
from app.main import create_app
from app.repositories.schema import upgrade_to_head
from app.services.ports import Clock
from app.settings import Settings
from tests.support import Actors, TestClock, build_actors

PG_ADMIN_URL = os.environ.get(
    "ACCORD_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
ENGINES = [e.strip() for e in os.environ.get("ACCORD_TEST_ENGINES", "sqlite,postgresql").split(",")]
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(_pg_dsn(PG_ADMIN_URL), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_available() -> str | None:
    try:
        asyncio.run(_pg_admin("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


_PG_PROBLEM: str | None = None
if "postgresql" in ENGINES:
    _PG_PROBLEM = _pg_available()
    if _PG_PROBLEM and IN_CI:
        raise RuntimeError(f"CI=true but PostgreSQL is not reachable: {_PG_PROBLEM}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [f"accord engines: {', '.join(ENGINES)}"]
    if "postgresql" in ENGINES and _PG_PROBLEM:
        lines.append(f"PostgreSQL NOT reachable ({_PG_PROBLEM}): PostgreSQL tests are SKIPPED")
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per engine with what ran on it, so a run shows both engines were tested."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            params = report.nodeid.partition("[")[2].rstrip("]").split("-")
            engine = next((p for p in params if p in ENGINES), "no database")
            per = counts.setdefault(engine, {})
            per[outcome] = per.get(outcome, 0) + 1
    for engine in sorted(counts):
        figures = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts[engine].items()))
        terminalreporter.write_line(f"engine {engine}: {figures}")
    if "postgresql" in ENGINES and _PG_PROBLEM:
        terminalreporter.write_line(
            "WARNING: PostgreSQL was not reachable; every PostgreSQL test was skipped.",
            red=True, bold=True)


class Database:
    """A migrated, empty database that lives as long as its fixture: a copy of a template
    migrated once per engine and test process (the migrations took seconds a database)."""

    def __init__(self, engine: str, tmp: Path) -> None:
        self.engine = engine
        if engine == "sqlite":
            self.url = f"sqlite+aiosqlite:///{tmp / f'accord-{uuid.uuid4().hex[:8]}.db'}"
            self.name = None
        else:
            self.name = f"accord_test_{uuid.uuid4().hex[:12]}"
            self.url = _pg_url(self.name)

    def create(self, *, migrate: bool = True) -> None:
        if not migrate:
            if self.name:
                asyncio.run(_pg_admin(f'CREATE DATABASE "{self.name}"'))
            return
        copy_template(self.engine, self.url if self.name is None else self.name)

    def drop(self) -> None:
        if self.name:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


def _pg_url(name: str) -> str:
    return str(make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False))


def _sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite+aiosqlite:///")


def _sqlite_copy(source: str, target: str) -> None:
    """SQLite's online backup: a consistent copy whatever its journal holds."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


_TEMPLATES: dict[str, str] = {}  # engine -> SQLite file or PostgreSQL database name


def _off_loop(work: Callable[[], object]) -> None:
    """Runs ``work`` (which starts an event loop of its own) in a thread, so that an async
    test may call it too."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(work).result()


def _template(engine: str) -> str:
    """The database this process copies from, migrated to head on first use."""
    if engine not in _TEMPLATES:
        if engine == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="accord-template-"))
            url = f"sqlite+aiosqlite:///{folder / 'template.db'}"
            _off_loop(lambda: upgrade_to_head(url))
            _TEMPLATES[engine] = _sqlite_path(url)
        else:
            name = f"accord_template_{uuid.uuid4().hex[:12]}"
            _off_loop(lambda: asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"')))
            _TEMPLATES[engine] = name
            _off_loop(lambda: upgrade_to_head(_pg_url(name)))
    return _TEMPLATES[engine]


def copy_template(engine: str, target: str) -> None:
    """A new migrated database: ``target`` is a SQLite URL or a PostgreSQL database name."""
    template = _template(engine)
    if engine == "sqlite":
        _sqlite_copy(template, _sqlite_path(target))
    else:
        _off_loop(lambda: asyncio.run(_pg_admin(
            f'CREATE DATABASE "{target}" TEMPLATE "{template}"')))


def pytest_sessionfinish() -> None:
    for engine, template in _TEMPLATES.items():
        if engine == "sqlite":
            shutil.rmtree(Path(template).parent, ignore_errors=True)
        else:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
    _TEMPLATES.clear()


def make_database(engine: str, tmp: Path, *, migrate: bool = True) -> Iterator[Database]:
    """A database of its own; ``migrate=False`` leaves it empty (never migrated)."""
    if engine == "postgresql" and _PG_PROBLEM:
        pytest.skip(f"PostgreSQL not reachable: {_PG_PROBLEM}")
    db = Database(engine, tmp)
    db.create(migrate=migrate)
    try:
        yield db
    finally:
        db.drop()


# Argon2id at its smallest: the tests hash and verify hundreds of passwords, and the cost
# is a production setting they do not test (the stored hashes name their parameters).
FAST_HASHER = Argon2PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1)


def test_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    """The real app, with cheap password hashing."""
    return create_app(settings, clock=clock, hasher=FAST_HASHER)

JOB_FILES = Path(tempfile.gettempdir()) / "accord-test-job-files"


def test_settings(url: str, **overrides: object) -> Settings:
    # An hour's access tokens (the most the setting allows): the session's signed-in actors
    # outlive a run on a busy machine, which the default 15 minutes did not.
    values: dict[str, object] = {"database_url": url, "env": "development",
                                 "log_level": "WARNING", "worker_in_process": False,
                                 "job_files_dir": str(JOB_FILES), "access_token_minutes": 60,
                                 **overrides}
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session", params=ENGINES)
def db_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database(db_engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    yield from make_database(db_engine, tmp_path_factory.mktemp(db_engine))


def _engine_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("db_engine") if callspec else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Engine-specific tests are skipped at collection, before the other engine's
    database and app are built for nothing."""
    for item in items:
        engine = _engine_of(item)
        if item.get_closest_marker("postgres_only") and engine == "sqlite":
            item.add_marker(pytest.mark.skip(
                reason="PostgreSQL only (row locks and real parallel transactions)"))
        if item.get_closest_marker("sqlite_only") and engine == "postgresql":
            item.add_marker(pytest.mark.skip(reason="SQLite only"))


@pytest.fixture(scope="session")
def clock() -> TestClock:
    return TestClock()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def app(database: Database, clock: TestClock) -> AsyncIterator[FastAPI]:
    application = test_app(test_settings(database.url), clock=clock)
    yield application
    await application.state.engines.dispose()


def client_for(application: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=application, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://accord.test")


@pytest_asyncio.fixture(loop_scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def actors(app: FastAPI) -> Actors:
    """Two departments and a signed-in user of every role (built once per engine)."""
    async with client_for(app) as c:
        return await build_actors(c, app)


@pytest.fixture
def fresh_database(db_engine: str, tmp_path: Path) -> Iterator[Database]:
    """A database of this test's own, for a test that corrupts it (sync: it uses asyncio.run)."""
    yield from make_database(db_engine, tmp_path)


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_app(fresh_database: Database, clock: TestClock) -> AsyncIterator[FastAPI]:
    """The real app on ``fresh_database``; the shared session database stays intact."""
    application = test_app(test_settings(fresh_database.url), clock=clock)
    yield application
    await application.state.engines.dispose()


ClientWith = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def client_with(database: Database, clock: TestClock) -> ClientWith:
    """``async with client_with(**settings) as c``: a client on an app of its own, built
    with those settings, on the shared database."""

    @asynccontextmanager
    async def open_client(**settings: object) -> AsyncIterator[httpx.AsyncClient]:
        application = test_app(test_settings(database.url, **settings), clock=clock)
        try:
            async with client_for(application) as c:
                yield c
        finally:
            await application.state.engines.dispose()

    return open_client
