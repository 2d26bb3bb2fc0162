"""Posting a webhook over HTTP (aiohttp: a fifteenth of httpx's CPU per request, measured
in bench/webhooks.py's setting): one attempt, redirects never followed, a 10 s deadline for
the whole exchange, at most a few KiB of the answer read.

In production the host is resolved by ``CheckedResolver`` when a connection is opened:
every address the name resolves to must be global (no loopback, link-local or private
ranges), and the connection is made to those very addresses, so a DNS answer that
changes between a check and the connection (rebinding) cannot send a delivery inward.
Literal IP addresses never reach a resolver; ``url_problem`` judges them first."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from app.domain.webhooks.deliveries import RESPONSE_CAP, TIMEOUT_S
from app.domain.webhooks.targets import address_allowed, url_problem
from app.services.ports.webhooks import DeliveryResult

Resolver = Callable[[str, int], Awaitable[list[str]]]
KEEPALIVE_S = 4.0


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


class UnsafeTarget(OSError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def checked_addresses(resolve: Resolver, host: str, port: int, *,
                            production: bool) -> list[str]:
    """The host's addresses if every one may be reached; ``UnsafeTarget`` otherwise."""
    try:
        addresses = await resolve(host, port)
    except OSError:
        raise UnsafeTarget("webhook_url_unresolvable") from None
    if not addresses:
        raise UnsafeTarget("webhook_url_unresolvable")
    if not all(address_allowed(a, production=production) for a in addresses):
        raise UnsafeTarget("webhook_url_private_address")
    return addresses


class CheckedResolver(AbstractResolver):
    """aiohttp's resolver in production: only addresses that passed the check."""

    def __init__(self, resolve: Resolver) -> None:
        self._resolve = resolve

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        addresses = await checked_addresses(self._resolve, host, port, production=True)
        return [ResolveResult(hostname=host, host=a, port=port,
                              family=socket.AF_INET6 if ":" in a else socket.AF_INET,
                              proto=0, flags=socket.AI_NUMERICHOST) for a in addresses]

    async def close(self) -> None:
        pass


class HttpWebhookTransport:
    def __init__(self, *, production: bool, timeout_s: float = TIMEOUT_S,
                 response_cap: int = RESPONSE_CAP, resolver: Resolver = system_resolver,
                 max_connections: int = 200) -> None:
        self._production = production
        self._timeout_s = timeout_s
        self._cap = response_cap
        self._resolve = resolver
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        """Made on first use, inside the loop that will use it."""
        if self._session is None or self._session.closed:
            # An idle connection is dropped before the common 5 s keep-alive of receivers
            # (uvicorn, Node): reusing one the receiver is closing fails the attempt.
            options: dict[str, Any] = {"limit": self._max_connections,
                                       "keepalive_timeout": KEEPALIVE_S}
            if self._production:  # resolve (and check) each new connection afresh
                options.update(resolver=CheckedResolver(self._resolve), use_dns_cache=False)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(**options), trust_env=False,
                timeout=aiohttp.ClientTimeout(total=self._timeout_s), auto_decompress=False)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def target_problem(self, url: str) -> str | None:
        reason = url_problem(url, production=self._production)
        if reason is not None or not self._production:
            return reason
        parts = urlsplit(url)
        try:
            await checked_addresses(self._resolve, parts.hostname or "", parts.port or 443,
                                    production=True)
        except UnsafeTarget as unsafe:
            return unsafe.reason
        return None

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> DeliveryResult:
        started = time.perf_counter()

        def took() -> int:
            return int((time.perf_counter() - started) * 1000)

        if self._production and (reason := url_problem(url, production=True)):
            return DeliveryResult(None, took(), f"refused: {reason}")
        kept = b""
        try:
            async with asyncio.timeout(self._timeout_s):
                async with self._client().post(url, data=body, headers=dict(headers),
                                               allow_redirects=False) as response:
                    while len(kept) < self._cap:
                        chunk = await response.content.read(self._cap - len(kept))
                        if not chunk:
                            break
                        kept += chunk
                    status = response.status
        except TimeoutError:
            return DeliveryResult(None, took(), "timeout")
        except aiohttp.ClientError as exc:
            unsafe = _unsafe(exc)
            if unsafe is not None:
                return DeliveryResult(None, took(), f"refused: {unsafe}")
            return DeliveryResult(None, took(), f"connection failed: {type(exc).__name__}")
        text = kept.decode("utf-8", "replace") if kept else None
        return DeliveryResult(status, took(), None, text)


def _unsafe(exc: BaseException) -> str | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, UnsafeTarget):
            return seen.reason
        seen = getattr(seen, "os_error", None) or seen.__cause__
    return None
