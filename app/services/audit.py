"""Reading and verifying the audit log (role ``auditor``)."""

from __future__ import annotations

from app.domain.audit.chain import AuditRecord, ChainVerifier, Verification
from app.domain.common.paging import Page, PageRequest
from app.services.ports import RequestContext
from app.services.ports.unit_of_work import UnitOfWorkFactory


class AuditService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def verify(self, ctx: RequestContext) -> Verification:
        """Walk the chain up to the head read first: entries appended meanwhile lie
        beyond it and are left for the next verification."""
        verifier = ChainVerifier()
        async with self._uow(ctx, write=False) as uow:
            head_seq, head_hash = await uow.audit_log.head()
            async for record in uow.audit_log.entries():
                if record.seq > head_seq:
                    break  # appended after our head read; not part of this snapshot
                verifier.feed([record])
        return verifier.finish(head_seq, head_hash)

    async def list(self, ctx: RequestContext, page: PageRequest, entity_type: str | None,
                   entity_id: str | None) -> Page[AuditRecord]:
        async with self._uow(ctx, write=False) as uow:
            return await uow.audit_log.list(page, entity_type, entity_id)
