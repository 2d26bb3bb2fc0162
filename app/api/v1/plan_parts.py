"""``POST /plans/{plan_id}/<parts>`` and ``PATCH /plans/{plan_id}/<parts>/{<part>_id}``: a
plan's objectives, milestones and budget lines are added and changed the same way (If-Match
on the plan, the whole plan answered), so each pair of routes is declared through
``plan_part`` and differs only in its bodies and its mapping to the domain.

(Deliberately without ``from __future__ import annotations``: the endpoints' annotations
are the caller's dependency and body types, which FastAPI must see as objects.)"""

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel

from app.api.container import services
from app.api.etag import if_match
from app.api.idempotency import Idempotent
from app.domain.plans.editing import PlanPart
from app.services.plans import PlanView

Version = Annotated[int, Depends(if_match)]


def sent(body: BaseModel) -> dict[str, Any]:
    """The fields a PATCH body names, as sent (absent ones stay as they are)."""
    return {name: getattr(body, name) for name in body.model_fields_set}


def plan_part(
    router: APIRouter, part: PlanPart, path: str, id_name: str, *,
    editor: Any, new: type[BaseModel], patch: type[BaseModel],
    to_item: Callable[[Any], Any], to_out: Callable[[PlanView, Response], BaseModel],
    out: type[BaseModel], responses: dict[int | str, dict[str, Any]],
    summaries: tuple[str, str], patch_description: str | None = None,
    to_changes: Callable[[Any], dict[str, Any]] = sent,
) -> None:
    """Adds ``add_<part>`` (POST ``path``, 201) and ``update_<part>`` (PATCH
    ``path/{id_name}``) to ``router``: ``editor`` is the routes' ``Annotated`` principal
    dependency (who may), ``to_item`` builds the new part from ``new``, ``to_changes`` the
    changes from ``patch`` (by default the fields sent), ``to_out`` shapes the plan."""

    async def add(request: Request, response: Response, plan_id: UUID,
                  body: new, ctx: editor, version: Version) -> Any:  # type: ignore[valid-type]
        view = await services(request).plans.add_part(ctx, plan_id, version, part,
                                                      to_item(body))
        return to_out(view, response)

    async def update(request: Request, response: Response, plan_id: UUID,
                     part_id: Annotated[UUID, Path(alias=id_name)],
                     body: patch, ctx: editor,  # type: ignore[valid-type]
                     version: Version) -> Any:
        view = await services(request).plans.update_part(ctx, plan_id, version, part,
                                                         part_id, to_changes(body))
        return to_out(view, response)

    router.add_api_route(path, add, methods=["POST"], name=f"add_{part}", response_model=out,
                         status_code=201, summary=summaries[0], responses=responses,
                         dependencies=[Idempotent])
    router.add_api_route(f"{path}/{{{id_name}}}", update, methods=["PATCH"],
                         name=f"update_{part}", response_model=out, summary=summaries[1],
                         description=patch_description, responses=responses)
