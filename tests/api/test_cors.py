"""Browsers on other origins (CORS): a frontend on an allowed origin may call the API and
read the headers the conventions rely on; any other origin is refused. By default the
local dev servers are allowed in development and nothing in production."""

from __future__ import annotations

import httpx
import pytest

from app.settings import Settings
from tests import conftest
from tests.support import Actors

SPA = "https://app.example.com"
STRANGER = "https://evil.example.net"
EXPOSED = {"etag", "location", "x-request-id", "idempotent-replayed", "retry-after"}
SENT = {"authorization", "content-type", "if-match", "idempotency-key", "x-api-key",
        "accept-language"}

async def preflight(client: httpx.AsyncClient, origin: str, method: str = "PATCH",
                    path: str = "/api/v1/customers/00000000-0000-0000-0000-000000000000"
                    ) -> httpx.Response:
    return await client.options(path, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": ", ".join(sorted(SENT))})


def listed(response: httpx.Response, header: str) -> set[str]:
    return {h.strip().lower() for h in response.headers.get(header, "").split(",") if h.strip()}


async def test_an_allowed_origin_passes_the_preflight_and_reads_the_headers(
        client_with: conftest.ClientWith, actors: Actors) -> None:
    async with client_with(cors_origins=[SPA]) as client:
        allowed = await preflight(client, SPA)
        assert allowed.status_code == 200, allowed.text
        assert allowed.headers["access-control-allow-origin"] == SPA
        assert {"get", "post", "put", "patch", "delete"} <= listed(
            allowed, "access-control-allow-methods")
        assert listed(allowed, "access-control-allow-headers") >= SENT

        answer = await client.get("/api/v1/me", headers={**actors.pm.headers, "Origin": SPA})
        assert answer.status_code == 200, answer.text
        assert answer.headers["access-control-allow-origin"] == SPA
        assert listed(answer, "access-control-expose-headers") >= EXPOSED
        assert "origin" in listed(answer, "vary")


async def test_another_origin_is_refused(client_with: conftest.ClientWith, actors: Actors) -> None:
    async with client_with(cors_origins=[SPA]) as client:
        refused = await preflight(client, STRANGER)
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        answer = await client.get("/api/v1/me", headers={**actors.pm.headers,
                                                         "Origin": STRANGER})
        assert answer.status_code == 200  # served, but the browser will not show it
        assert "access-control-allow-origin" not in answer.headers


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:5173",
                                    "http://localhost:3000"])
async def test_development_allows_the_local_dev_servers_and_production_nothing(
        client_with: conftest.ClientWith, origin: str) -> None:
    async with client_with() as client:
        allowed = await preflight(client, origin)
        assert allowed.status_code == 200, allowed.text
        assert allowed.headers["access-control-allow-origin"] == origin
    async with client_with(env="production", signing_key="p" * 40) as client:
        refused = await preflight(client, origin)
        assert "access-control-allow-origin" not in refused.headers
    async with client_with(env="production", signing_key="p" * 40,
                           cors_origins=[SPA]) as client:
        assert "access-control-allow-origin" not in (await preflight(client, origin)).headers
        assert (await preflight(client, SPA)).headers["access-control-allow-origin"] == SPA


def test_the_origins_setting_is_a_comma_separated_list_of_origins(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_CORS_ORIGINS", f"{SPA}, http://localhost:8080")
    assert Settings().allowed_origins == (SPA, "http://localhost:8080")
    monkeypatch.setenv("ACCORD_CORS_ORIGINS", "")
    assert Settings().allowed_origins == ()
    monkeypatch.setenv("ACCORD_CORS_ORIGINS", f"{SPA}/app")
    with pytest.raises(ValueError, match="is not an origin"):
        Settings()
