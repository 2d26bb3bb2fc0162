"""The app's route class, ``AccordRoute``: FastAPI's route with three behaviours of the
house, each a named piece below.

- **Refusing early** (``could_match``): FastAPI tries routes one by one, and for each it
  does its own bookkeeping and a regular expression match; an included router's routes
  are scanned twice (once to pick the router, once to pick the route). With about 150
  routes that was a fifth of an approval's CPU. A route whose literal beginning (the path
  up to its first parameter) is not the beginning of the request's path cannot match, and
  says so at once.
- **Who may call** (``with_who_may_call``): the route's declared access is stated in its
  documentation, and for a workflow action who may take it on a given record
  (``app.api.contract.acted_by``).
- **Idempotency** (``app.api.idempotency.finishing_claims``): the answer to a request that
  claimed an ``Idempotency-Key`` is stored (with its effect, in one transaction), or a
  repeat's stored answer replayed; a deadlock or serialization failure runs the handler
  again (``app.api.retries``).

Routes are matched in the order of ``app.api.v1.routers``; tests/api/test_route_order.py
fails on any route an earlier one would take.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

from app.api.contract import who_may_act
from app.api.dependants import declared_access
from app.api.idempotency import finishing_claims
from app.domain.access.principal import Access


def literal_start(path: str) -> str:
    """The path up to its first parameter."""
    return path.split("{", 1)[0]


def could_match(scope: Scope, start: str) -> bool:
    """False when the request's path cannot be the route's: it does not begin with the
    route's literal beginning."""
    return scope["type"] != "http" or get_route_path(scope).startswith(start)


def with_who_may_call(description: str, access: Access | None,
                      acting: str | None = None) -> str:
    if access is not None:
        description = f"{description}\n\n**Who may call:** {access.describe()}."
    if acting is not None:
        description = f"{description}\n\n{acting}"
    return description.strip()


class AccordRoute(APIRoute):
    """Routers that use this class must be included without an extra prefix (the app's
    are): the literal beginning is taken from the route's own path."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self._literal_start = literal_start(path)
        self.description = with_who_may_call(self.description, declared_access(self),
                                             who_may_act(self.openapi_extra))

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if not could_match(scope, self._literal_start):
            return Match.NONE, {}
        return super().matches(scope)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return finishing_claims(super().get_route_handler())
