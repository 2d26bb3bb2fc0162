"""What an operator and a load balancer rely on: liveness, readiness (database reachable and
schema at the Alembic head), Prometheus metrics labelled by route template, and ETags."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory

from app.api.metrics import HttpMetrics
from app.repositories.schema import MIGRATIONS_DIR
from tests import conftest
from tests.support import Actors, assert_problem, create_user, unique

ALEMBIC_HEAD = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


@pytest.fixture
def unmigrated_database(db_engine: str, tmp_path: Path) -> Iterator[conftest.Database]:
    yield from conftest.make_database(db_engine, tmp_path, migrate=False)


@pytest.fixture
async def unmigrated_client(
        unmigrated_database: conftest.Database) -> AsyncIterator[httpx.AsyncClient]:
    """The real app on a database nobody migrated."""
    application = conftest.test_app(conftest.test_settings(unmigrated_database.url))
    async with conftest.client_for(application) as c:
        yield c
    await application.state.engines.dispose()


async def test_healthz(client) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_the_schema_at_the_alembic_head(client) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert ALEMBIC_HEAD is not None
    body = response.json()
    assert {k: body[k] for k in ("status", "database", "schema_revision", "schema_head")} == {
        "status": "ok", "database": "ok", "schema_revision": ALEMBIC_HEAD,
        "schema_head": ALEMBIC_HEAD}
    assert body["worker"] in ("ok", "stale", "absent")  # tests/worker/ pins each


async def test_readyz_is_503_when_the_schema_is_behind(unmigrated_client) -> None:
    response = await unmigrated_client.get("/readyz")
    assert_problem(response, 503, "database_unavailable")
    assert response.headers["retry-after"] == "5"
    alive = await unmigrated_client.get("/healthz")
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample whose labels include ``labels`` (0 when absent)."""
    for line in metrics.splitlines():
        match = re.match(rf"^{re.escape(name)}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            return float(match.group(2))
    return 0.0


async def test_metrics_count_requests_by_route_template_and_status(
        client, actors: Actors) -> None:
    user = await create_user(client, actors.admin, actors.east, ["analyst"])
    before = (await client.get("/metrics")).text
    assert (await client.get("/api/v1/me", headers=actors.pm.headers)).status_code == 200
    read = await client.get(f"/api/v1/users/{user['id']}", headers=actors.admin.headers)
    assert read.status_code == 200
    denied = await client.get(f"/api/v1/users/{user['id']}", headers=actors.pm.headers)
    assert_problem(denied, 403, "forbidden")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    by_id = "/api/v1/users/{user_id}"
    for route, status, delta in (("/api/v1/me", "200", 1), (by_id, "200", 1),
                                 (by_id, "403", 1)):
        counted = sample(after, "accord_http_requests_total", method="GET", route=route,
                         status=status)
        was = sample(before, "accord_http_requests_total", method="GET", route=route,
                     status=status)
        assert counted - was == delta, (route, status)
    assert user["id"] not in after  # labelled by template, never by the raw path
    assert sample(after, "accord_http_request_duration_seconds_count", method="GET",
                  route="/api/v1/me") >= 1
    assert sample(after, "accord_http_request_duration_seconds_bucket", method="GET",
                  route="/api/v1/me", le="+Inf") >= 1
    assert "# TYPE accord_db_pool_connections gauge" in after
    assert re.search(r'^accord_db_pool_connections\{state="[a-z_]+"\} \d', after, re.M)


async def test_single_resource_reads_carry_the_version_as_etag(client, actors: Actors) -> None:
    user = await create_user(client, actors.admin, actors.east, ["analyst"])
    key = await client.post("/api/v1/api-keys", headers=actors.admin.headers,
                            json={"name": unique("etag-key"), "scopes": ["users:read"]})
    assert key.status_code == 201, key.text
    for path, headers in ((f"/api/v1/users/{user['id']}", actors.admin.headers),
                          (f"/api/v1/departments/{actors.east}", actors.admin.headers),
                          (f"/api/v1/api-keys/{key.json()['id']}", actors.admin.headers),
                          ("/api/v1/me", actors.am_east.headers)):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == f'"{response.json()["version"]}"', path
    changed = await client.patch(f"/api/v1/users/{user['id']}", json={"display_name": "改名"},
                                 headers={**actors.admin.headers,
                                          "If-Match": f'"{user["version"]}"'})
    assert changed.headers["etag"] == f'"{user["version"] + 1}"'
    reread = await client.get(f"/api/v1/users/{user['id']}", headers=actors.admin.headers)
    assert reread.headers["etag"] == changed.headers["etag"]
    assert reread.json()["display_name"] == "改名"


def test_pool_overflow_is_never_reported_below_zero() -> None:
    """SQLAlchemy's overflow() is -pool_size + connections opened while the pool fills."""
    metrics = HttpMetrics(lambda: {"size": 20, "checkedout": 1, "overflow": -18,
                                   "checkedin": 1}).render().decode()
    assert sample(metrics, "accord_db_pool_connections", state="overflow") == 0
    assert sample(metrics, "accord_db_pool_connections", state="size") == 20


async def test_no_pool_figure_on_metrics_is_negative(client) -> None:
    metrics = (await client.get("/metrics")).text
    figures = re.findall(r'^accord_db_pool_connections\{state="(\w+)"\} (\S+)$', metrics, re.M)
    assert figures and all(float(value) >= 0 for _, value in figures), figures
