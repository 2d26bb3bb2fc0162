"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

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
    return JSONResponse(report)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}},
                             "description": "Prometheus text format"}})
async def metrics(request: Request, _: Annotated[RequestContext, Depends(public())]) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)
