"""A delivery's life (one event to one endpoint): pending until an attempt succeeds or the
retry window closes. Retries back off exponentially with jitter over about a day; a 410
(Gone) ends the delivery and disables the endpoint; an endpoint that has failed for longer
than the window is disabled too.

The states and moves are a table (``MOVES``); ``apply`` is the one way a delivery moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

RETRY_WINDOW = timedelta(hours=24)
FIRST_DELAY = timedelta(seconds=15)
GROWTH = 3
MAX_DELAY = timedelta(hours=6)
JITTER = 0.2  # each delay is scaled by a factor in [1 - JITTER, 1 + JITTER]
TIMEOUT_S = 10.0
RESPONSE_CAP = 4096  # bytes of a receiver's answer read and kept in the log


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class AttemptOutcome(StrEnum):
    SUCCEEDED = "succeeded"  # 2xx
    FAILED = "failed"  # any other answer, a timeout, a refused or unsafe target
    GONE = "gone"  # 410: the receiver asks us to stop


class Move(StrEnum):
    SUCCEED = "succeed"
    RETRY = "retry"
    GIVE_UP = "give_up"
    REDELIVER = "redeliver"


P, D, F = DeliveryState.PENDING, DeliveryState.DELIVERED, DeliveryState.FAILED
MOVES: dict[Move, tuple[frozenset[DeliveryState], DeliveryState]] = {
    Move.SUCCEED: (frozenset({P}), D),
    Move.RETRY: (frozenset({P}), P),
    Move.GIVE_UP: (frozenset({P}), F),
    Move.REDELIVER: (frozenset({P, D, F}), P),
}


def outcome_of(status_code: int | None) -> AttemptOutcome:
    if status_code is not None and 200 <= status_code < 300:
        return AttemptOutcome.SUCCEEDED
    if status_code == 410:
        return AttemptOutcome.GONE
    return AttemptOutcome.FAILED  # 3xx included: redirects are not followed


def delay(attempt: int, jitter: float) -> timedelta:
    """The pause after the ``attempt``-th failed attempt (1-based); ``jitter`` in [0, 1)."""
    base_s = min(FIRST_DELAY.total_seconds() * float(GROWTH) ** (attempt - 1),
                 MAX_DELAY.total_seconds())
    return timedelta(seconds=base_s * (1 - JITTER + 2 * JITTER * jitter))


@dataclass(frozen=True)
class Next:
    """What follows an attempt: the delivery's new state, when to try again, and whether
    the endpoint is to be disabled (with the reason)."""

    state: DeliveryState
    move: Move
    retry_at: datetime | None
    disable_endpoint: str | None = None


def after_attempt(*, state: DeliveryState, attempt: int, first_attempt_at: datetime,
                  now: datetime, outcome: AttemptOutcome, endpoint_failing_since: datetime | None,
                  jitter: float) -> Next:
    """The decision after attempt number ``attempt`` (1-based) of a delivery whose first
    attempt was at ``first_attempt_at``."""
    if outcome is AttemptOutcome.SUCCEEDED:
        return Next(apply(state, Move.SUCCEED), Move.SUCCEED, None)
    if outcome is AttemptOutcome.GONE:
        return Next(apply(state, Move.GIVE_UP), Move.GIVE_UP, None, "gone")
    failing_since = endpoint_failing_since or now
    disable = "failing" if now - failing_since >= RETRY_WINDOW else None
    retry_at = now + delay(attempt, jitter)
    if disable or retry_at - first_attempt_at > RETRY_WINDOW:
        return Next(apply(state, Move.GIVE_UP), Move.GIVE_UP, None, disable)
    return Next(apply(state, Move.RETRY), Move.RETRY, retry_at)


def apply(state: DeliveryState, move: Move) -> DeliveryState:
    sources, target = MOVES[move]
    if state not in sources:
        raise ValueError(f"a {state} delivery cannot {move}")
    return target
