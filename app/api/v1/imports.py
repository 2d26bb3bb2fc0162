"""``/imports``: bulk import of customers and contacts from CRM exports (issue 17). The
upload is stored and queued; the worker (``accord worker``, or ``accord import``) runs it
in committed chunks; progress, rejected rows and cancellation are here."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, File, Form, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from app.api import i18n
from app.api.container import services
from app.api.csv_export import CSV_MEDIA_TYPE
from app.api.problems import error_responses
from app.api.security import allow
from app.api.v1.routing import feature_router
from app.api.v1.schemas.bulk import ImportJobOut
from app.domain.access.roles import Role, Scope
from app.domain.bulk.model import BulkJob, ImportMode, RowProblem
from app.domain.common.errors import FieldError, InvalidInput
from app.services.imports import CONTACTS, ImportOptions, Upload
from app.services.ports import RequestContext

router = feature_router("imports")

Importer = Annotated[RequestContext, Depends(allow(
    Role.ADMIN, Role.DEPARTMENT_HEAD, Role.ACCOUNT_MANAGER, scopes=(Scope.CUSTOMERS_WRITE,)))]
ERRORS_HEADER = ("file", "line", "column", "code", "reason_en", "reason_zh")


def job_out(job: BulkJob) -> ImportJobOut:
    options = job.options
    return ImportJobOut(
        id=job.id, state=job.state, mode=options["mode"], dry_run=options["dry_run"],
        preset=options["preset"], files=job.files,  # type: ignore[arg-type]
        counts=job.counts, position=job.position,  # type: ignore[arg-type]
        error=job.error, created_at=job.created_at, started_at=job.started_at,
        finished_at=job.finished_at)


def _mapping(name: str, value: str | None) -> dict[str, str] | None:
    if value is None or not value.strip():
        return None
    try:
        mapping = json.loads(value)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise InvalidInput([FieldError(f"/{name}", "json_invalid")])
    return mapping


def reason(problem: RowProblem, lang: str) -> str:
    if problem.code in i18n.FIELD_MESSAGES:
        return i18n.field_detail(problem.code, problem.params, lang)
    return i18n.detail(problem.code, problem.params, lang)


@router.post("/imports", response_model=ImportJobOut, status_code=202,
             summary="Queue an import of customers (and contacts) from a CSV or XLSX file",
             responses=error_responses(409))
async def create(
    request: Request, response: Response, ctx: Importer,
    file: Annotated[UploadFile, File(description=(
        "The customers (accounts) file: CSV (UTF-8 with or without BOM, or GB18030) or "
        "XLSX"))],
    contacts_file: Annotated[UploadFile | None, File(description=(
        "Optional contacts file of the same CRM export"))] = None,
    mode: Annotated[ImportMode, Form()] = ImportMode.CREATE,
    dry_run: Annotated[bool, Form()] = False,
    preset: Annotated[str | None, Form(
        description="`zoho`, `fxiaoke`, `salesforce` or `accord` (columns: "
                    "docs/imports.md)")] = None,
    mapping: Annotated[str | None, Form(
        description='Explicit column mapping as JSON, e.g. `{"公司名称": "name"}`')] = None,
    contacts_mapping: Annotated[str | None, Form()] = None,
    system: Annotated[str | None, Form(
        pattern=r"^[a-z][a-z0-9_]{0,31}$",
        description="With an explicit mapping: the CRM whose ids `external_id` holds")] = None,
    keep_unknown: Annotated[bool, Form(
        description="Keep unmapped columns in custom_attributes")] = False,
    default_owner: Annotated[str | None, Form(
        max_length=254, description="Owner (username or e-mail) of rows without one")] = None,
) -> ImportJobOut:
    """Rows are checked by the rules of `POST /customers` (and record scope); a rejected
    row never stops the job — `GET /imports/{id}/errors` lists each with its reason."""
    uploads = [Upload(file.filename or "customers.csv", file.file)]
    if contacts_file is not None:
        uploads.append(Upload(contacts_file.filename or "contacts.csv", contacts_file.file,
                              CONTACTS))
    job = await services(request).imports.submit(ctx, uploads, ImportOptions(
        mode=mode, dry_run=dry_run, preset=preset, mapping=_mapping("mapping", mapping),
        contacts_mapping=_mapping("contacts_mapping", contacts_mapping), system=system,
        keep_unknown=keep_unknown, default_owner=default_owner))
    response.headers["Location"] = f"/api/v1/imports/{job.id}"
    return job_out(job)


@router.get("/imports/{job_id}", response_model=ImportJobOut,
            summary="An import's state and progress", responses=error_responses(404))
async def get(request: Request, job_id: UUID, ctx: Importer) -> ImportJobOut:
    return job_out(await services(request).imports.get(ctx, job_id))


@router.get("/imports/{job_id}/errors", summary="The rejected rows, as CSV",
            response_class=StreamingResponse, responses={
                **error_responses(404), 200: {"content": {"text/csv": {}},
                                              "description": "file, line, column, code, "
                                                             "reason_en, reason_zh"}})
async def errors(request: Request, job_id: UUID, ctx: Importer) -> StreamingResponse:
    service = services(request).imports
    await service.get(ctx, job_id)  # 404 before the stream starts

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        buffer.write("\ufeff")
        writer.writerow(ERRORS_HEADER)
        async for p in service.problems(ctx, job_id):
            writer.writerow([p.file, p.line, p.column, p.code, reason(p, i18n.EN),
                             reason(p, i18n.ZH)])
            if buffer.tell() > 1 << 16:
                yield _take(buffer)
        yield _take(buffer)

    return StreamingResponse(lines(), media_type=CSV_MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"'})


def _take(buffer: io.StringIO) -> Any:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


@router.post("/imports/{job_id}/cancel", response_model=ImportJobOut,
             summary="Cancel an import (what was committed stays)",
             responses=error_responses(404, 409))
async def cancel(request: Request, job_id: UUID, ctx: Importer) -> ImportJobOut:
    return job_out(await services(request).imports.cancel(ctx, job_id))
