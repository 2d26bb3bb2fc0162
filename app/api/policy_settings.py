"""``GET``/``PUT /settings/<name>``: one administrator's policy, read by the roles that
need it, changed with If-Match. Every policy setting is declared through ``policy_setting``
so they share one shape: the ETag is the policy's version, the answer is what was stored.

(Deliberately without ``from __future__ import annotations``: the endpoints' annotations
are the caller's dependency and body types, which FastAPI must see as objects.)"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from app.api.container import Services, services
from app.api.etag import if_match, set_etag
from app.api.problems import error_responses
from app.services.ports import RequestContext

Version = Annotated[int, Depends(if_match)]
P = TypeVar("P")
Read = Callable[[RequestContext], Awaitable[tuple[P, int]]]
Write = Callable[[RequestContext, P, int], Awaitable[int]]


def policy_setting(
    router: APIRouter, path: str, name: str, *,
    reader: Any, writer: Any, body: type[BaseModel], out: type[BaseModel],
    use_cases: Callable[[Services], tuple[Read[P], Write[P]]],
    domain: Any = None, to_domain: Callable[[Any], P] | None = None,
    to_out: Callable[[P, int], BaseModel] | None = None,
    summaries: tuple[str, str], errors: tuple[int, ...] = (409, 412, 428),
    put_description: str | None = None,
) -> None:
    """Adds ``get_<name>`` and ``put_<name>`` to ``router``: ``reader`` and ``writer`` are
    the routes' ``Annotated`` principal dependencies (who may), ``use_cases`` the policy's
    reading and writing use cases (the writing one returns the new version), ``to_domain``
    and ``to_out`` the mapping: by default ``domain.from_dict(<the body as JSON>)`` and
    ``out(**policy.to_dict(), version=...)``."""

    def parse(sent: BaseModel) -> P:
        if to_domain is not None:
            return to_domain(sent)
        return domain.from_dict(sent.model_dump(mode="json"))  # type: ignore[no-any-return]

    def shape(policy: P, version: int) -> BaseModel:
        if to_out is not None:
            return to_out(policy, version)
        return out(**policy.to_dict(), version=version)  # type: ignore[attr-defined]

    async def get(request: Request, response: Response, ctx: reader) -> Any:
        read, _ = use_cases(services(request))
        policy, version = await read(ctx)
        set_etag(response, version)
        return shape(policy, version)

    async def put(request: Request, response: Response, body: body,  # type: ignore[valid-type]
                  ctx: writer, version: Version) -> Any:
        policy = parse(body)
        _, write = use_cases(services(request))
        new_version = await write(ctx, policy, version)
        set_etag(response, new_version)
        return shape(policy, new_version)

    router.add_api_route(path, get, methods=["GET"], name=f"get_{name}", response_model=out,
                         summary=summaries[0])
    router.add_api_route(path, put, methods=["PUT"], name=f"put_{name}", response_model=out,
                         summary=summaries[1], description=put_description,
                         responses=error_responses(*errors))
