"""Port for stored answers to requests sent with an Idempotency-Key, and the request's
pending answer: how a use case's unit of work commits the answer with the effect."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Claim:
    """A request's hold on (caller, key). ``lease`` (the claim's ``locked_until``) fences
    it: a later claim of an abandoned key always has a later lease, so an attempt whose
    lease is no longer the row's cannot store its answer (nor commit its effect)."""

    caller: str
    key: str
    lease: datetime


@dataclass(frozen=True)
class Reservation:
    """Outcome of claiming an idempotency key: a claim (run the handler) or a stored reply."""

    claim: Claim | None = None
    replay: StoredResponse | None = None


class IdempotencyStore(Protocol):
    async def reserve(self, caller: str, key: str, fingerprint: str, now: datetime) -> Reservation:
        """Claim the key, or raise IdempotencyKeyReused / IdempotencyKeyInFlight."""
        ...
    async def complete(self, claim: Claim, response: StoredResponse) -> None:
        """Store the answer of a request that committed no effect (its own transaction)."""
        ...
    async def release(self, claim: Claim) -> None: ...


Finish = Callable[[StoredResponse | None], Awaitable[None]]


class PendingAnswer:
    """One request's answer, from its first line to the stored response.

    A request holding a claim must store its answer in the transaction of the effect it
    guards, or a commit whose answer is lost would run again on a retry. The use case's
    unit of work cannot know the answer (the route shapes it after the use case returns),
    so at ``commit()`` it writes everything else and *parks* its open transaction here
    (``park``); the route answers, and ``finish`` stores that answer in the parked
    transaction and commits both at once. A request without a claim commits as usual
    and only notes that it did (``committed``): after that, re-running it is not safe.
    """

    def __init__(self) -> None:
        self.claim: Claim | None = None
        self.committed = False
        self._finish: Finish | None = None

    @property
    def parked(self) -> bool:
        return self._finish is not None

    def park(self, finish: Finish) -> None:
        """``finish(answer)`` commits the parked transaction with ``answer`` stored, or
        rolls it back when called with None."""
        if self._finish is not None:
            raise RuntimeError("an idempotent request commits one unit of work")
        self._finish = finish

    async def finish(self, answer: StoredResponse | None) -> bool:
        """Commit the parked transaction with ``answer`` (roll it back for None); False
        when nothing was parked."""
        finish, self._finish = self._finish, None
        if finish is None:
            return False
        await finish(answer)
        self.committed = answer is not None
        return True


# The answer of the request being served (None outside an HTTP request).
pending_answer: ContextVar[PendingAnswer | None] = ContextVar("pending_answer", default=None)
