"""The ``accord`` command as an operator runs it: in a subprocess, configured only through
``ACCORD_*`` variables, against a SQLite file of its own. What it wrote is then checked
through the real app's API. Production mode refuses demo data and the development key."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import typer
from sqlalchemy import event
from typer.testing import CliRunner

from app import __version__, demo
from app.adapters.passwords import Argon2PasswordHasher, HashedOnce
from app.cli import cli
from app.demo import load
from app.domain.access.roles import Role
from app.main import create_app
from app.settings import Settings, bind_refusal
from tests import conftest
from tests.support import list_all, sign_in

ACCORD = Path(sys.executable).with_name("accord")
DEMO_PASSWORD = "accord-demo-2026"  # what `accord demo` prints
REAL_KEY = "a-production-signing-key-of-forty-characters"
CJK = re.compile(r"[\u4e00-\u9fff]")
E164_CN = re.compile(r"^\+86\d{10,11}$")


@dataclass
class Run:
    code: int
    output: str  # stdout and stderr together


def accord(db: Path, *args: str, stdin: str | None = None, **env: str) -> Run:
    """Run ``accord`` in ``db``'s directory (no stray ``.env``) with only our settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    clean.update(ACCORD_DATABASE_URL=f"sqlite+aiosqlite:///{db}", ACCORD_LOG_LEVEL="WARNING",
                 COLUMNS="200", **env)
    done = subprocess.run([str(ACCORD), *args], cwd=db.parent,  # noqa: S603 - our own CLI
                          env=clean, capture_output=True, text=True, timeout=180, check=False,
                          input=stdin)
    return Run(done.returncode, done.stdout + done.stderr)


def migrated(db: Path) -> Path:
    """``accord migrate`` on a new file (the demo database); elsewhere a copy of the tests'
    migrated template, which is what that command leaves."""
    run = accord(db, "migrate")
    assert run.code == 0 and "Schema at head" in run.output, run.output
    return db


def at_head(db: Path) -> Path:
    db.parent.mkdir(parents=True, exist_ok=True)
    conftest.copy_template("sqlite", f"sqlite+aiosqlite:///{db}")
    return db


def demo_database(folder: Path, customers: int, seed: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    db = migrated(folder / "demo.db")
    run = accord(db, "demo", "--customers", str(customers), "--seed", str(seed))
    assert run.code == 0, run.output
    assert "14 users" in run.output, run.output
    return db


@pytest_asyncio.fixture(loop_scope="session")
async def api_on() -> AsyncIterator[Any]:
    """``api_on(db)``: an API client on the app serving that SQLite file."""
    apps = []

    def open_client(db: Path) -> httpx.AsyncClient:
        app = conftest.test_app(conftest.test_settings(f"sqlite+aiosqlite:///{db}"))
        apps.append(app)
        return conftest.client_for(app)

    yield open_client
    for app in apps:
        await app.state.engines.dispose()


async def signed_in(client: httpx.AsyncClient, username: str,
                    password: str = DEMO_PASSWORD) -> dict[str, str]:
    response = await sign_in(client, username, password)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def demo_customers(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every demo customer (as the demo administrator), oldest first, with contacts."""
    headers = await signed_in(client, "admin")
    summaries = await list_all(client, "/api/v1/customers", headers, sort="created_at")
    full = []
    for summary in summaries:
        response = await client.get(f"/api/v1/customers/{summary['id']}", headers=headers)
        assert response.status_code == 200, response.text
        full.append(response.json())
    return full


@pytest.fixture(scope="module")
def seed_one(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_database(tmp_path_factory.mktemp("seed1"), 15, 1)


async def test_demo_loads_departments_every_role_and_chinese_customers(
        seed_one: Path, api_on: Any) -> None:
    async with api_on(seed_one) as client:
        headers = await signed_in(client, "admin")
        users = await list_all(client, "/api/v1/users", headers)
        departments = await list_all(client, "/api/v1/departments", headers)
        customers = await demo_customers(client)
        feedback = await list_all(client, "/api/v1/feedback", headers)
        plans = await list_all(client, "/api/v1/plans", headers)
        automation = (await client.get("/api/v1/settings/survey-automation",
                                       headers=headers)).json()
        template = (await client.get(
            f"/api/v1/survey-templates/{automation['change_request_closed_template_id']}",
            headers=headers)).json()
        courses = await list_all(client, "/api/v1/training/courses", headers)
        lin = next(u for u in await list_all(client, "/api/v1/users", headers)
                   if u["username"] == "am.lin")
        record = (await client.get(f"/api/v1/users/{lin['id']}/training",
                                   headers=headers)).json()

    assert len(users) == 14
    assert {role for u in users for role in u["roles"]} == {r.value for r in Role}
    assert len(departments) >= 3
    assert {u["department_id"] for u in users} <= {d["id"] for d in departments}
    assert 12 <= len(customers) <= 15  # a seed may repeat a phone; that one is skipped
    assert all(CJK.search(c["name"]) for c in customers)
    phones = [p["number"] for c in customers for person in c["contacts"]
              for p in person["phones"]]
    assert phones and all(E164_CN.match(p) for p in phones), phones
    assert {c["owner_id"] for c in customers} <= {
        u["id"] for u in users if "account_manager" in u["roles"]}
    # something to explore in the feedback and satisfaction reports
    assert feedback and {f["customer_id"] for f in feedback} <= {c["id"] for c in customers}
    assert all(CJK.search(f["summary"]) and f["state"] == "received" for f in feedback)
    assert [q["kind"] for q in template["questions"]] == ["nps", "csat", "ces", "text"]
    # plans in every state, each with milestones, budget and an objective
    assert {p["state"] for p in plans} == {"draft", "active", "completed", "cancelled"}
    assert all(p["milestones"] and p["budget_lines"] and p["objectives"] for p in plans)
    assert {p["revision"] for p in plans if p["state"] != "draft"} - {None} == {0}
    # training: three courses, and one completion that has lapsed
    assert len(courses) == 3
    assert [c["standing"] for c in record["courses"]] == ["lapsed"]


async def test_the_same_seed_gives_the_same_customers(seed_one: Path, tmp_path: Path,
                                                      api_on: Any) -> None:
    """The loader ``accord demo`` runs, run again in-process on copies of the schema."""
    again, other = at_head(tmp_path / "again.db"), at_head(tmp_path / "other.db")
    for db, customers, seed in ((again, 15, 1), (other, 5, 2)):
        app = conftest.test_app(conftest.test_settings(f"sqlite+aiosqlite:///{db}"))
        try:
            await demo.load(app.state.services, customers, seed)
        finally:
            await app.state.engines.dispose()

    async with api_on(seed_one) as first, api_on(again) as second, api_on(other) as third:
        names = [[c["name"] for c in await demo_customers(client)]
                 for client in (first, second, third)]

    assert names[0] == names[1]
    assert names[2] != names[0][:len(names[2])]


async def test_create_admin_then_sign_in(tmp_path: Path, api_on: Any) -> None:
    db = at_head(tmp_path / "admin.db")
    password = "a-long-admin-password-2026"

    created = accord(db, "create-admin", "--username", "ops.wang", "--password", password)
    repeated = accord(db, "create-admin", "--username", "ops.wang", "--password", password)

    assert created.code == 0 and "created" in created.output, created.output
    assert repeated.code == 0 and "already exists" in repeated.output, repeated.output
    async with api_on(db) as client:
        headers = await signed_in(client, "ops.wang", password)
        me = await client.get("/api/v1/me", headers=headers)
        wrong = await sign_in(client, "ops.wang", "not-the-password-at-all")
        users = await list_all(client, "/api/v1/users", headers)
    assert me.status_code == 200, me.text
    assert (me.json()["username"], me.json()["roles"]) == ("ops.wang", ["admin"])
    assert wrong.status_code == 401
    assert [u["username"] for u in users] == ["ops.wang"]


async def test_create_admin_takes_the_password_from_stdin_or_the_environment(
        tmp_path: Path, api_on: Any) -> None:
    db = at_head(tmp_path / "quiet.db")
    piped = accord(db, "create-admin", "--username", "ops.li", "--password-stdin",
                   stdin="a-piped-admin-password-1\n")
    from_env = accord(db, "create-admin", "--username", "ops.zhao",
                      ACCORD_ADMIN_PASSWORD="an-env-admin-password-2")
    assert piped.code == from_env.code == 0, piped.output + from_env.output
    async with api_on(db) as client:
        for username, password in (("ops.li", "a-piped-admin-password-1"),
                                   ("ops.zhao", "an-env-admin-password-2")):
            assert (await sign_in(client, username, password)).status_code == 200, username


def test_create_admin_refuses_a_short_password_in_one_line(tmp_path: Path) -> None:
    db = at_head(tmp_path / "short.db")
    for run in (accord(db, "create-admin", "--username", "ops.qian", "--password", "short"),
                accord(db, "create-admin", "--username", "ops.qian", "--password-stdin",
                       stdin="short\n"),
                accord(db, "create-admin", "--username", "ops.qian",
                       ACCORD_ADMIN_PASSWORD="short")):
        assert run.code == 2, run.output
        assert "password must have at least 12 characters" in run.output, run.output
        assert "Traceback" not in run.output and len(run.output.splitlines()) == 1, run.output


def test_help_shows_no_markup_and_there_is_a_version() -> None:
    runner = CliRunner()
    version = runner.invoke(cli, ["--version"])
    assert (version.exit_code, version.output.strip()) == (0, f"accord {__version__}")
    for command in ["", *typer.main.get_command(cli).commands]:  # type: ignore[attr-defined]
        shown = runner.invoke(cli, [command, "--help"] if command else ["--help"],
                              env={"COLUMNS": "200"})
        assert shown.exit_code == 0, (command, shown.output)
        assert "`" not in shown.output, (command, shown.output)
    assert "--version" in runner.invoke(cli, ["--help"]).output


def test_openapi_writes_a_valid_document(tmp_path: Path) -> None:
    target = tmp_path / "out" / "openapi.json"

    run = accord(tmp_path / "unused.db", "openapi", "--output", str(target))

    assert run.code == 0, run.output
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/customers", "/api/v1/auth/token"} <= set(document["paths"])


async def test_demo_is_refused_in_production(tmp_path: Path, api_on: Any) -> None:
    db = at_head(tmp_path / "prod.db")

    with_real_key = accord(db, "demo", "--customers", "3", ACCORD_ENV="production",
                           ACCORD_SIGNING_KEY=REAL_KEY)
    with_default_key = accord(db, "demo", "--customers", "3", ACCORD_ENV="production")

    assert with_real_key.code != 0 and "development only" in with_real_key.output
    assert with_default_key.code != 0 and "ACCORD_SIGNING_KEY" in with_default_key.output
    async with api_on(db) as client:
        refused = await sign_in(client, "admin", DEMO_PASSWORD)
    assert refused.status_code == 401  # no demo user was created


def test_serve_refuses_the_development_key_in_production(tmp_path: Path) -> None:
    run = accord(tmp_path / "serve.db", "serve", "--port", "0", ACCORD_ENV="production")

    assert run.code != 0
    assert "ACCORD_SIGNING_KEY" in run.output
    assert "Traceback" not in run.output, run.output


ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - what the refusal is about


@pytest.mark.parametrize("host", [ALL_INTERFACES, "192.168.1.20", "::", "accord.example.com"])
def test_serve_in_development_refuses_any_address_but_loopback(
        tmp_path: Path, host: str) -> None:
    """The development signing key is in the source: a development server anyone can
    reach would accept their self-signed admin token (issue 13 item 6)."""
    run = accord(tmp_path / "serve.db", "serve", "--host", host, "--port", "0")

    assert run.code == 2, run.output
    assert "loopback" in run.output and "ACCORD_ENV=production" in run.output, run.output
    assert "Traceback" not in run.output, run.output


@pytest.mark.parametrize(("env", "host", "refused"), [
    ("development", "127.0.0.1", False), ("development", "localhost", False),
    ("development", "::1", False), ("development", "[::1]", False),
    ("development", "127.0.1.1", False), ("development", ALL_INTERFACES, True),
    ("development", "10.0.0.5", True), ("production", ALL_INTERFACES, False),
])
def test_which_addresses_a_server_may_listen_on(env: str, host: str, refused: bool) -> None:
    settings = Settings(env=env, signing_key=REAL_KEY)  # type: ignore[arg-type]
    assert (bind_refusal(settings, host) is not None) == refused


class CountingHasher(Argon2PasswordHasher):
    def __init__(self) -> None:
        super().__init__()
        self.hashed = 0

    async def hash(self, password: str) -> str:
        self.hashed += 1
        return await super().hash(password)


async def test_demo_hashes_the_shared_password_once(tmp_path: Path) -> None:
    """Argon2id costs about 0.2 s of CPU a hash: once per demo user made ``accord demo``
    spend seconds on 14 identical passwords (issue 13 item 8)."""
    db = migrated(tmp_path / "demo.db")
    counting = CountingHasher()
    app = create_app(conftest.test_settings(f"sqlite+aiosqlite:///{db}"),
                     hasher=HashedOnce(counting))
    try:
        result = await load(app.state.services, 3, 7)
        admin = await app.state.services.people.user_by_username("admin")
    finally:
        await app.state.engines.dispose()
    assert (result.users_created, counting.hashed) == (14, 1)
    assert await counting.verify(DEMO_PASSWORD, admin.password_hash)


async def test_demo_customers_share_transactions(tmp_path: Path) -> None:
    """A transaction (and its audit-chain update) per customer made ``accord demo`` take
    23-30 s for 200 customers on a loaded machine (issue 13 item 8): customers are created
    in batches, each still by the create rules. Counted from the first customer to the
    last, feedback included."""
    db = migrated(tmp_path / "demo.db")
    app = create_app(conftest.test_settings(f"sqlite+aiosqlite:///{db}"),
                     hasher=HashedOnce(Argon2PasswordHasher()))
    counts = {"commits": 0, "statements": 0, "feedback": 0}
    engine = app.state.engines.write.sync_engine

    def commit(*_: Any) -> None:
        counts["commits"] += 1

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        counts["statements"] += 1
        counts["feedback"] += sql.startswith("INSERT INTO feedback_items")

    event.listen(engine, "commit", commit)
    event.listen(engine, "before_cursor_execute", statement)
    marks: list[dict[str, int]] = []  # the counts each time the loader reports progress
    customers = 100
    try:
        result = await load(app.state.services, customers, 7,
                            lambda n: marks.extend([dict(counts)] * n))
    finally:
        await app.state.engines.dispose()
    users_done, customers_done = marks[len(demo.PEOPLE) - 1], marks[-1]
    commits = customers_done["commits"] - users_done["commits"]
    statements = customers_done["statements"] - users_done["statements"]
    feedback = customers_done["feedback"]
    assert result.customers_created == customers and feedback > 0
    # one commit for each batch of customers, one for each feedback item
    assert commits == customers // demo.BATCH + feedback, (commits, feedback)
    assert statements <= 14 * customers, statements  # 25 a customer when each had its own
