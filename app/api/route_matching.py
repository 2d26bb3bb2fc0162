"""Route matching without the full work for routes that cannot match.

FastAPI tries routes one by one, and for each it does its own bookkeeping and a regular
expression match; an included router's routes are scanned twice (once to pick the router,
once to pick the route). With about 150 routes that was a fifth of an approval's CPU. A
route whose literal beginning (the path up to its first parameter) is not the beginning
of the request's path cannot match, and says so at once.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope


class PrefixMatchedRoute(APIRoute):
    """Routers that use this class must be included without an extra prefix (the app's
    are): the literal beginning is taken from the route's own path."""

    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self._literal_start = path.split("{", 1)[0]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and \
                not get_route_path(scope).startswith(self._literal_start):
            return Match.NONE, {}
        return super().matches(scope)
