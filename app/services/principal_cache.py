"""A short-lived, in-process cache of the principals behind bearer tokens.

Every request with a bearer token needs the token checked (signature and claims) and its
user read (active? which roles, which department?). Reading the user costs a unit of work
of its own: a pool check-out, a round trip and the SQLAlchemy statement; checking the
token costs about as much CPU again (docs/performance.md). ``AuthService`` keeps, for a few
seconds, the principal a token resolved to, keyed by the token itself: a token seen again
is neither decoded nor looked up, and is refused once it expires, as the codec would.

Freshness of the user behind a cached token:

- In the process that makes the change, immediately: saving a user (deactivation, roles,
  department) calls ``user_changed`` from the storage adapter, which drops that user's
  entries from every cache of the process and stops caching that user for ``HOLD_S`` (so a
  request that read the row just before the change committed cannot put the old state
  back).
- In other worker processes, after at most the cache's lifetime (``ttl_s``): they keep the
  entries they read until those expire.

API keys are not cached: they are looked up on every request.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from app.domain.access.principal import Principal

# Longer than any transaction that writes a user is expected to stay open.
HOLD_S = 60.0
MAX_ENTRIES = 10_000

_caches: weakref.WeakSet[PrincipalCache] = weakref.WeakSet()


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    fresh_until: float  # monotonic clock: the cache's lifetime
    token_expires: int  # epoch seconds: the token's own ``exp``


class PrincipalCache:
    def __init__(self, ttl_s: float, *, monotonic: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self._ttl = ttl_s
        self._monotonic = monotonic
        self._wall = wall
        self._entries: dict[str, _Entry] = {}
        self._held: dict[UUID, float] = {}
        _caches.add(self)

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        # A token is valid through the second of its ``exp`` (python-jose's rule).
        if entry.fresh_until <= self._monotonic() or entry.token_expires < int(self._wall()):
            self._entries.pop(token, None)
            return None
        return entry.principal

    def put(self, token: str, token_expires: int, principal: Principal) -> None:
        if self._ttl <= 0:
            return
        now = self._monotonic()
        held = self._held.get(principal.id)
        if held is not None:
            if held > now:
                return
            del self._held[principal.id]
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[token] = _Entry(principal, now + self._ttl, token_expires)

    def clear(self) -> None:
        self._entries.clear()

    def forget(self, user_id: UUID) -> None:
        now = self._monotonic()
        self._entries = {token: entry for token, entry in self._entries.items()
                         if entry.principal.id != user_id}
        if len(self._held) >= MAX_ENTRIES:
            self._held = {k: v for k, v in self._held.items() if v > now}
        self._held[user_id] = now + max(HOLD_S, self._ttl)


def user_changed(user_id: UUID) -> None:
    """A user's row or roles are being written: no cache of this process serves a principal
    of this user read before the change."""
    for cache in list(_caches):
        cache.forget(user_id)
