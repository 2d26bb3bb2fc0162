"""Reading and verifying the audit log (role ``auditor``), its signed checkpoints, and the
refusals it keeps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.audit.chain import AuditRecord, ChainVerifier, Verification
from app.domain.audit.checkpoint import Checkpoint, sign
from app.domain.common.paging import Page, PageRequest
from app.services.ports import Clock, RequestContext
from app.services.ports.unit_of_work import UnitOfWorkFactory

DENIED = "access.denied"


@dataclass(frozen=True)
class Denial:
    """A signed-in caller refused: a 403, or a 404 on a record that exists but is not
    theirs to see. ``ids`` are the request's path values that may name the record."""

    status: int
    code: str
    method: str
    route: str
    entity_type: str | None = None
    ids: Sequence[str] = ()


class AuditService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock,
                 checkpoint_key: bytes | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._key = checkpoint_key

    async def verify(self, ctx: RequestContext,
                     checkpoint: Checkpoint | None = None) -> Verification:
        """Walk the chain up to the head read first: entries appended meanwhile lie
        beyond it and are left for the next verification. With the checkpoint key, the
        stored checkpoints (and ``checkpoint``, e.g. one exported to a file) are checked
        against it."""
        async with self._uow(ctx, write=False) as uow:
            # checkpoints before the head: each names a head committed before ours
            checkpoints = await uow.audit_log.checkpoints()
            if checkpoint is not None:
                checkpoints.append(checkpoint)
            verifier = ChainVerifier(checkpoints, self._key)
            head_seq, head_hash = await uow.audit_log.head()
            async for record in uow.audit_log.entries():
                if record.seq > head_seq:
                    break  # appended after our head read; not part of this snapshot
                verifier.feed([record])
        return verifier.finish(head_seq, head_hash)

    async def checkpoint(self, ctx: RequestContext) -> Checkpoint:
        """Sign the chain's head now and keep the checkpoint beside the log; export it
        too (``accord audit checkpoint``): a copy outside the database is the anchor
        nobody who can write to it can remove."""
        if self._key is None:  # the command refuses before: nothing to sign with
            raise RuntimeError("no audit checkpoint key is configured")
        async with self._uow(ctx) as uow:
            seq, head_hash = await uow.audit_log.head()
            signed = sign(seq, head_hash, self._clock.now(), self._key)
            existing = [c for c in await uow.audit_log.checkpoints() if c.seq == seq]
            if existing:  # nothing was appended since: the same head is signed already
                return existing[0]
            await uow.audit_log.add_checkpoint(signed)
            await uow.commit()
        return signed

    async def record_denial(self, ctx: RequestContext, denial: Denial) -> bool:
        """Keep a refusal in the log in a transaction of its own. A 404 is kept only
        when the record exists (a missing one refuses nobody); True when kept."""
        entity_type, entity_id = denial.entity_type or "route", None
        if denial.status == 404:
            if denial.entity_type is None:
                return False
            async with self._uow(ctx, write=False) as uow:
                entity_id = await uow.records.existing(denial.entity_type, denial.ids)
            if entity_id is None:
                return False
        async with self._uow(ctx) as uow:
            uow.record_change(DENIED, entity_type, entity_id, after={
                "status": denial.status, "code": denial.code, "method": denial.method,
                "route": denial.route})
            await uow.commit()
        return True

    async def list(self, ctx: RequestContext, page: PageRequest, entity_type: str | None,
                   entity_id: str | None) -> Page[AuditRecord]:
        async with self._uow(ctx, write=False) as uow:
            return await uow.audit_log.list(page, entity_type, entity_id)
