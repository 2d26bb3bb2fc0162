"""What the workflow tables (change requests, handovers, feedback, plans, bulk jobs)
share. Each feature declares its actions as rows — a name, the states it leaves from, the
parties who may take it and the guards that must hold — and its ``check`` asks these
helpers in one order: may the action leave this state, is the caller one of its parties,
do its guards hold. ``permitted`` then lists exactly the actions ``check`` lets through:
what the API shows as ``allowed_actions``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from app.domain.common.errors import (
    DomainError,
    NotYourAction,
    PreconditionUnmet,
    TransitionNotAllowed,
)


class Row(Protocol):
    """One action of a workflow table."""

    @property
    def name(self) -> str: ...
    @property
    def sources(self) -> frozenset[Any]: ...
    @property
    def parties(self) -> frozenset[Any]: ...
    @property
    def guards(self) -> tuple[Callable[[Any], str | None], ...]: ...


A = TypeVar("A", bound=Row)
S = TypeVar("S")
P = TypeVar("P")
F = TypeVar("F")


@dataclass(frozen=True)
class Transition(Generic[S, P, F]):
    """A row whose action always leads to one ``target`` state (plans, feedback, bulk
    jobs; a feature names it ``Action = Transition[<its state>, <its party>, <its
    facts>]``). Each guard looks at the facts and gives a reason when it does not hold."""

    name: str
    sources: frozenset[S]
    target: S
    parties: frozenset[P]
    guards: tuple[Callable[[F], str | None], ...] = ()


def in_state(actions: Mapping[str, A], state: object) -> list[str]:
    """The actions that leave ``state``, by name."""
    return sorted(a.name for a in actions.values() if state in a.sources)


def leaving(actions: Mapping[str, A], name: str, state: object,
            offered: Callable[[], list[str]] | None = None) -> A:
    """The action ``name`` if it may leave ``state``; otherwise ``TransitionNotAllowed``
    naming the actions that may (``offered``, where a record offers fewer than its state
    does)."""
    action = actions.get(name)
    if action is None or state not in action.sources:
        names = offered() if offered is not None else in_state(actions, state)
        raise TransitionNotAllowed(action=name, state=state, allowed=", ".join(names) or "none")
    return action


def require_party(action: Row, is_party: Callable[[Any], bool]) -> None:
    """``NotYourAction`` unless the caller is one of the action's parties."""
    if not any(is_party(party) for party in action.parties):
        raise NotYourAction(action=action.name, parties=", ".join(sorted(action.parties)))


def require_guards(action: Row, facts: object) -> None:
    """``PreconditionUnmet`` with the first guard's reason that does not hold."""
    for guard in action.guards:
        reason = guard(facts)
        if reason is not None:
            raise PreconditionUnmet(action=action.name, reason=reason)


def permitted(names: Iterable[str], check: Callable[[str], object]) -> list[str]:
    """The names for which ``check`` raises no domain error, in order."""
    allowed = []
    for name in names:
        try:
            check(name)
        except DomainError:
            continue
        allowed.append(name)
    return allowed
