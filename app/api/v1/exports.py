"""``/exports``: customers (with contacts), change requests and feedback as CSV (UTF-8
with BOM) or JSON Lines, made by the worker with the list endpoints' filters and your
record scope; the file is yours to fetch until it expires."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request, Response
from fastapi.responses import FileResponse

from app.api.container import services
from app.api.problems import error_responses
from app.api.security import allow
from app.api.v1.routing import feature_router
from app.api.v1.schemas.bulk import ExportCreate, ExportJobOut
from app.domain.access.roles import Role, Scope
from app.domain.bulk.model import BulkJob, ExportEntity, ExportFormat, JobState
from app.services.exports import ExportRequest
from app.services.ports import RequestContext

router = feature_router("exports")

Exporter = Annotated[RequestContext, Depends(allow(
    Role.ADMIN, Role.EXECUTIVE, Role.ANALYST, Role.AUDITOR, Role.DEPARTMENT_HEAD,
    Role.ACCOUNT_MANAGER, scopes=(Scope.CUSTOMERS_READ,)))]


def job_out(job: BulkJob) -> ExportJobOut:
    ready = job.state is JobState.COMPLETED and job.result_key is not None
    return ExportJobOut(
        id=job.id, state=job.state, entity=ExportEntity(job.options["entity"]),
        format=ExportFormat(job.options["format"]), rows=job.counts.get("rows", 0),
        error=job.error, created_at=job.created_at, finished_at=job.finished_at,
        expires_at=job.expires_at,
        download=f"/api/v1/exports/{job.id}/file" if ready else None)


@router.post("/exports", response_model=ExportJobOut, status_code=202,
             summary="Queue an export (CSV or JSON Lines)")
async def create(request: Request, response: Response, body: ExportCreate,
                 ctx: Exporter) -> ExportJobOut:
    """Only the records you may read are exported; the file is kept for
    `ACCORD_EXPORT_TTL_HOURS` and only you may fetch it."""
    filters = body.filters.model_dump(mode="json", exclude_none=True)
    job = await services(request).exports.submit(ctx, ExportRequest(
        entity=body.entity, format=body.format, include_contacts=body.include_contacts,
        filters=filters))
    response.headers["Location"] = f"/api/v1/exports/{job.id}"
    return job_out(job)


@router.get("/exports/{job_id}", response_model=ExportJobOut, summary="An export's state",
            responses=error_responses(404))
async def get(request: Request, job_id: UUID, ctx: Exporter) -> ExportJobOut:
    return job_out(await services(request).exports.get(ctx, job_id))


@router.get("/exports/{job_id}/file", summary="Fetch the exported file",
            response_class=FileResponse, responses={
                **error_responses(404, 409, 410),
                200: {"content": {"text/csv": {}, "application/x-ndjson": {}},
                      "description": "The file"}})
async def file(request: Request, job_id: UUID, ctx: Exporter) -> FileResponse:
    found = await services(request).exports.download(ctx, job_id)
    return FileResponse(found.path, media_type=found.media_type, filename=found.filename)


@router.post("/exports/{job_id}/cancel", response_model=ExportJobOut,
             summary="Cancel an export", responses=error_responses(404, 409))
async def cancel(request: Request, job_id: UUID, ctx: Exporter) -> ExportJobOut:
    return job_out(await services(request).exports.cancel(ctx, job_id))
