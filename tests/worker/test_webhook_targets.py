"""Where webhooks may go. In production the API refuses targets that are not https or that
are (or resolve to) loopback, link-local or private addresses, and the transport checks
the host's addresses again before every delivery, so a DNS answer changed after the check
(rebinding) cannot send a delivery inward. In development local receivers are allowed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from fastapi import FastAPI

from app.adapters.webhook_http import CheckedResolver, HttpWebhookTransport, UnsafeTarget
from tests.conftest import Database, client_for
from tests.conftest import test_app as app_for
from tests.conftest import test_settings as settings_for
from tests.support import Actor, TestClock, assert_problem, first_admin
from tests.worker.receiver import Answer, Receiver

PRODUCTION = {"env": "production", "signing_key": "s" * 48}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def production(worker_database: Database) -> AsyncIterator[tuple[FastAPI, Actor]]:
    app = app_for(settings_for(worker_database.url, **PRODUCTION), clock=TestClock())
    async with client_for(app) as client:
        admin = await first_admin(client, app)
    yield app, admin
    await app.state.webhook_transport.aclose()
    await app.state.engines.dispose()


@pytest.mark.parametrize(("url", "reason"), [
    ("http://hooks.example.com/accord", "webhook_url_not_https"),
    ("https://127.0.0.1/accord", "webhook_url_private_address"),
    ("https://[::1]:8443/accord", "webhook_url_private_address"),
    ("https://169.254.169.254/latest/meta-data", "webhook_url_private_address"),
    ("https://10.20.30.40/accord", "webhook_url_private_address"),
    ("https://192.168.1.10/accord", "webhook_url_private_address"),
    ("https://172.16.5.4/accord", "webhook_url_private_address"),
    ("https://[::ffff:127.0.0.1]/accord", "webhook_url_private_address"),
    ("https://localhost:8443/accord", "webhook_url_private_address"),  # resolves inward
    ("https://user:secret@hooks.example.com/", "webhook_url_credentials"),
    ("ftp://hooks.example.com/", "webhook_url_invalid"),
])
async def test_production_refuses_unsafe_targets(production: tuple[FastAPI, Actor], url: str,
                                                 reason: str) -> None:
    app, admin = production
    async with client_for(app) as client:
        response = await client.post("/api/v1/webhook-endpoints", headers=admin.headers,
                                     json={"url": url, "event_types": ["customer.*"]})
    body = assert_problem(response, 422, "validation_failed")
    assert [(e["pointer"], e["reason"]) for e in body["errors"]] == [("/url", reason)]


def _resolver(*addresses: str):  # type: ignore[no-untyped-def]
    async def resolve(_host: str, _port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize("answer", [("127.0.0.1",), ("169.254.169.254",), ("10.0.0.7",),
                                    ("93.184.216.34", "192.168.0.2")])
async def test_a_delivery_is_refused_when_dns_now_points_inward(answer: tuple[str, ...]) -> None:
    """The host passed the check when the endpoint was saved; at delivery time its name
    resolves (also) to an inner address: nothing is sent, the attempt fails."""
    with Receiver() as receiver:
        transport = HttpWebhookTransport(production=True, resolver=_resolver(*answer))
        try:
            result = await transport.post("https://hooks.example.com/accord",
                                          {"webhook-id": "msg_1"}, b"{}")
        finally:
            await transport.aclose()
        assert (result.status_code, result.error) == (None,
                                                       "refused: webhook_url_private_address")
        assert receiver.requests == []


async def test_production_connects_only_to_the_addresses_it_checked() -> None:
    """aiohttp opens the connection to what the resolver returns: the checked addresses,
    never a second DNS answer."""
    resolver = CheckedResolver(_resolver("93.184.216.34", "2606:2800:220:1::1"))
    found = await resolver.resolve("hooks.example.com", 443)
    assert [(r["host"], r["hostname"], r["port"]) for r in found] == [
        ("93.184.216.34", "hooks.example.com", 443),
        ("2606:2800:220:1::1", "hooks.example.com", 443)]
    with pytest.raises(UnsafeTarget):
        await CheckedResolver(_resolver("93.184.216.34", "10.0.0.1")).resolve("h.example", 443)


async def test_development_allows_local_receivers_and_caps_what_it_reads() -> None:
    with Receiver() as receiver:
        receiver.answers["/big"] = Answer(200, body=b"x" * 100_000)
        transport = HttpWebhookTransport(production=False)
        try:
            result = await transport.post(receiver.url("/big"), {}, b"{}")
        finally:
            await transport.aclose()
        assert result.status_code == 200
        assert result.response_body is not None and len(result.response_body) == 4096


async def test_a_slow_receiver_times_out() -> None:
    with Receiver() as receiver:
        receiver.answers["/slow"] = Answer(delay_s=1.5)
        transport = HttpWebhookTransport(production=False, timeout_s=0.3)
        try:
            result = await transport.post(receiver.url("/slow"), {}, b"{}")
        finally:
            await transport.aclose()
        assert (result.status_code, result.error) == (None, "timeout")
        assert 250 <= result.duration_ms < 1500


