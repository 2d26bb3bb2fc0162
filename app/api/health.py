"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.api.container import services
from app.api.metrics import CONTENT_TYPE
from app.api.problems import error_responses, problem_response
from app.api.route_matching import AccordRoute
from app.api.security import public
from app.services.ports import RequestContext

router = APIRouter(tags=["operations"], route_class=AccordRoute)  # states "Who may call"


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    schema_revision: str | None
    schema_head: str | None
    worker: Literal["ok", "stale", "absent"] = Field(
        description="`stale`: no worker (`accord worker` or the in-process one) has run for "
                    "longer than ACCORD_WORKER_STALE_AFTER_S, so events wait and webhooks are "
                    "not sent; `absent`: none has run yet. Reported, never a 503: the API "
                    "itself still serves")
    worker_seen_at: datetime | None


@router.get("/healthz", response_model=Health, summary="Process is up")
async def healthz(_: Annotated[RequestContext, Depends(public())]) -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, summary="Database reachable, schema at head",
            responses=error_responses(503))
async def readyz(request: Request,
                 _: Annotated[RequestContext, Depends(public())]) -> Any:
    report = await services(request).readiness()
    if report["status"] != "ok":
        return problem_response(request, 503, "database_unavailable", headers={"Retry-After": "5"})
    worker = await services(request).worker_status.health()
    seen = worker.last_seen_at.isoformat() if worker.last_seen_at else None
    return JSONResponse({**report, "worker": worker.status, "worker_seen_at": seen})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}},
                             "description": "Prometheus text format"}})
async def metrics(request: Request, _: Annotated[RequestContext, Depends(public())]) -> Response:
    snapshot = await services(request).worker_status.snapshot()
    return Response(request.app.state.metrics.render(snapshot), media_type=CONTENT_TYPE)
