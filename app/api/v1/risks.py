"""``/risks``: the risk register (风险管理), its heat map, and ``/settings/risk-matrix``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Request, Response

from app.api.container import services
from app.api.etag import if_match, set_etag
from app.api.idempotency import Idempotent
from app.api.pagination import ListPage, list_page, page_params
from app.api.policy_settings import policy_setting
from app.api.problems import error_responses
from app.api.security import allow
from app.api.v1.routing import feature_router
from app.api.v1.schemas.base import Day
from app.api.v1.schemas.risks import (
    HeatmapCell,
    HeatmapOut,
    RiskCreate,
    RiskMatrixIn,
    RiskMatrixOut,
    RiskOut,
    RiskPatch,
    RiskStatusChange,
)
from app.domain.access.roles import Role
from app.domain.common.paging import PageRequest
from app.domain.risk.matrix import SCALE, RiskLevel, RiskMatrix
from app.domain.risk.register import RISK_EDITORS, RiskStatus
from app.services.ports import RequestContext
from app.services.ports.risks import RiskFilter
from app.services.risks import RiskInput, RiskView

router = feature_router("risks")

Reader = Annotated[RequestContext, Depends(allow(
    *RISK_EDITORS, Role.EXECUTIVE, Role.ANALYST, Role.AUDITOR, Role.FINANCE))]
Editor = Annotated[RequestContext, Depends(allow(*RISK_EDITORS))]
Admin = Annotated[RequestContext, Depends(allow(Role.ADMIN))]
Version = Annotated[int, Depends(if_match)]
CHANGE_ERRORS = error_responses(404, 409, 412, 428)


def _out(response: Response | None, view: RiskView) -> RiskOut:
    risk = view.risk
    if response is not None:
        set_etag(response, risk.version)
    return RiskOut.model_validate({**risk.__dict__, "level": risk.level.label,
                                   "allowed_statuses": view.allowed_statuses})


risk_out = _out  # plans list their risks in the same shape


def _input(body: RiskCreate | RiskPatch) -> RiskInput:
    sent = frozenset(body.model_fields_set)
    return RiskInput(**{name: getattr(body, name) for name in sent}, fields_set=sent)


class RiskQuery:
    """The register's filters, shared by the list and the heat map."""

    def __init__(
        self,
        status: Annotated[RiskStatus | None, Query()] = None,
        level: Annotated[str | None, Query(pattern="^(low|medium|high|critical)$")] = None,
        owner_id: Annotated[UUID | None, Query()] = None,
        customer_id: Annotated[UUID | None, Query()] = None,
        department_id: Annotated[UUID | None, Query()] = None,
        review_due_by: Annotated[Day | None, Query(description="Next review on or before")]
        = None,
    ) -> None:
        self.filters = RiskFilter(
            status=status, level=RiskLevel.parse(level) if level else None, owner_id=owner_id,
            customer_id=customer_id, department_id=department_id, review_due_by=review_due_by)


@router.post("/risks", response_model=RiskOut, status_code=201, summary="Register a risk",
             responses=error_responses(409), dependencies=[Idempotent])
async def create(request: Request, response: Response, body: RiskCreate,
                 ctx: Editor) -> RiskOut:
    """The level comes from the risk matrix; the owner defaults to you."""
    view = await services(request).risks.create(ctx, _input(body))
    response.headers["Location"] = f"/api/v1/risks/{view.risk.id}"
    return _out(response, view)


@router.get("/risks", response_model=ListPage[RiskOut], summary="The risk register")
async def list_risks(
    request: Request, ctx: Reader, query: Annotated[RiskQuery, Depends()],
    page: Annotated[PageRequest, Depends(page_params(["updated_at", "created_at", "level"],
                                                     "-updated_at"))],
) -> dict[str, object]:
    result = await services(request).risks.list(ctx, query.filters, page)
    return list_page(request, result, page, lambda r: _out(None, r))


@router.get("/risks/heatmap", response_model=HeatmapOut,
            summary="Open risks counted per likelihood × impact cell")
async def heatmap(request: Request, ctx: Reader,
                  query: Annotated[RiskQuery, Depends()]) -> HeatmapOut:
    """Counts risks that are not closed (unless `status` asks for another), with each cell's
    level from the current matrix."""
    filters = query.filters
    if filters.status is None:
        filters = RiskFilter(**{**filters.__dict__, "open_only": True})
    counts, matrix = await services(request).risks.heatmap(ctx, filters)
    cells = [HeatmapCell(likelihood=lk, impact=im, level=matrix.level(lk, im).label,  # type: ignore[arg-type]
                         count=counts.get((lk, im), 0)) for lk in SCALE for im in SCALE]
    return HeatmapOut(cells=cells, total=sum(counts.values()))


@router.get("/risks/{risk_id}", response_model=RiskOut, summary="Read a risk",
            responses=error_responses(404))
async def get(request: Request, response: Response, risk_id: UUID, ctx: Reader) -> RiskOut:
    return _out(response, await services(request).risks.get(ctx, risk_id))


@router.patch("/risks/{risk_id}", response_model=RiskOut, summary="Change a risk",
              responses=CHANGE_ERRORS)
async def update(request: Request, response: Response, risk_id: UUID, body: RiskPatch,
                 ctx: Editor, version: Version) -> RiskOut:
    return _out(response, await services(request).risks.update(ctx, risk_id, version,
                                                               _input(body)))


@router.post("/risks/{risk_id}/status", response_model=RiskOut,
             summary="Move a risk to open, mitigating or closed", responses=CHANGE_ERRORS,
             dependencies=[Idempotent])
async def change_status(request: Request, response: Response, risk_id: UUID,
                        body: RiskStatusChange, ctx: Editor, version: Version) -> RiskOut:
    return _out(response, await services(request).risks.change_status(ctx, risk_id, version,
                                                                      body.status))


policy_setting(
    router, "/settings/risk-matrix", "matrix", reader=Reader, writer=Admin,
    body=RiskMatrixIn, out=RiskMatrixOut, domain=RiskMatrix,
    use_cases=lambda s: (s.risks.matrix, s.risks.set_matrix),
    summaries=("The risk matrix (likelihood × impact → level)",
               "Set the risk matrix (re-rates every risk)"),
    put_description="A matrix where some cell is lower than a cell with lower-or-equal "
                    "likelihood and\nimpact is refused (422) with the offending cells named.")
