"""``/audit``: the append-only, hash-chained audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from app.api.container import services
from app.api.pagination import ListPage, list_page, page_params
from app.api.security import allow
from app.api.v1.routing import feature_router
from app.api.v1.schemas.audit import AuditEntryOut, VerificationOut
from app.domain.access.roles import Role, Scope
from app.domain.common.paging import PageRequest
from app.services.ports import RequestContext

router = feature_router("audit")


@router.get("/audit/entries", response_model=ListPage[AuditEntryOut],
            summary="Read the audit log")
async def list_entries(
    request: Request,
    ctx: Annotated[RequestContext, Depends(allow(Role.AUDITOR, Role.ADMIN,
                                                 scopes=(Scope.AUDIT_READ,)))],
    page: Annotated[PageRequest, Depends(page_params(["seq"], "seq"))],
    entity_type: Annotated[str | None, Query(max_length=50)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, object]:
    result = await services(request).audit.list(ctx, page, entity_type, entity_id)
    return list_page(request, result, page, AuditEntryOut.model_validate)


@router.get("/audit/verify", response_model=VerificationOut,
            summary="Verify that no audit entry was altered or removed")
async def verify(request: Request,
                 ctx: Annotated[RequestContext, Depends(allow(Role.AUDITOR))]) -> VerificationOut:
    """Recomputes the hash chain from the first entry to the recorded head, and checks it
    against the signed checkpoints (``accord audit checkpoint``): a chain rewritten and
    re-hashed inside the database no longer holds the hash a checkpoint signed."""
    result = await services(request).audit.verify(ctx)
    return VerificationOut(intact=result.intact, entries_checked=result.entries_checked,
                           last_seq=result.last_seq,
                           breaks=[b.__dict__ for b in result.breaks],  # type: ignore[misc]
                           checkpoints_checked=result.checkpoints_checked,
                           anchored_seq=result.anchored_seq)
