"""Posting a webhook over HTTP (httpx): one attempt, redirects never followed, a 10 s
deadline for the whole exchange, at most a few KiB of the answer read. In production the
host is resolved just before each attempt, every address it resolves to must be global
(no loopback, link-local or private ranges), and the connection goes to the address that
was checked (TLS still verifies the certificate against the host name), so a DNS answer
that changes between the check and the connection cannot redirect the delivery."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlsplit

import httpx

from app.domain.webhooks.deliveries import RESPONSE_CAP, TIMEOUT_S
from app.domain.webhooks.targets import address_allowed, url_problem
from app.services.ports.webhooks import DeliveryResult

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


class HttpWebhookTransport:
    def __init__(self, *, production: bool, timeout_s: float = TIMEOUT_S,
                 response_cap: int = RESPONSE_CAP, resolver: Resolver = system_resolver,
                 max_connections: int = 200) -> None:
        self._production = production
        self._timeout_s = timeout_s
        self._cap = response_cap
        self._resolve = resolver
        self._client = httpx.AsyncClient(
            follow_redirects=False, trust_env=False, timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=max_connections,
                                max_keepalive_connections=max_connections))

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _addresses(self, url: str) -> tuple[list[str] | None, str | None]:
        """The host's addresses if every one may be reached, else the reason."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            addresses = await self._resolve(host, parts.port or 443)
        except OSError:
            return None, "webhook_url_unresolvable"
        if not addresses:
            return None, "webhook_url_unresolvable"
        if not all(address_allowed(a, production=self._production) for a in addresses):
            return None, "webhook_url_private_address"
        return addresses, None

    async def target_problem(self, url: str) -> str | None:
        reason = url_problem(url, production=self._production)
        if reason is not None or not self._production:
            return reason
        return (await self._addresses(url))[1]

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> DeliveryResult:
        started = time.perf_counter()

        def took() -> int:
            return int((time.perf_counter() - started) * 1000)

        target = httpx.URL(url)
        send_headers = dict(headers)
        extensions: dict[str, object] = {}
        if self._production:
            reason = url_problem(url, production=True)
            addresses = None
            if reason is None:
                addresses, reason = await self._addresses(url)
            if reason is not None or not addresses:
                return DeliveryResult(None, took(), f"refused: {reason}")
            # Connect to the address just checked; Host and SNI keep the name.
            send_headers["host"] = target.netloc.decode("ascii")
            extensions["sni_hostname"] = target.host
            target = target.copy_with(host=addresses[0])
        try:
            async with asyncio.timeout(self._timeout_s):
                async with self._client.stream("POST", target, content=body,
                                               headers=send_headers,
                                               extensions=extensions) as response:
                    kept = bytearray()
                    async for chunk in response.aiter_bytes():
                        kept += chunk
                        if len(kept) >= self._cap:
                            break
        except (TimeoutError, httpx.TimeoutException):
            return DeliveryResult(None, took(), "timeout")
        except httpx.HTTPError as exc:
            return DeliveryResult(None, took(), f"connection failed: {type(exc).__name__}")
        text = bytes(kept[: self._cap]).decode("utf-8", "replace") if kept else None
        return DeliveryResult(response.status_code, took(), None, text)
