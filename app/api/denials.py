"""Refusals of a signed-in caller go into the audit log: every 403, and a 404 on a record
that exists but lies outside the caller's scope (domain §1: the two 404s look alike to
the caller, not to the auditor).

Only refused requests pay for it (a 404 one read, then a write of its own); an answered
request does nothing here. The entry is committed in a transaction of its own, outside
any Idempotency-Key's pending answer, and a failure to write it (a database outage) is
logged without changing the refusal."""

from __future__ import annotations

import structlog
from fastapi import Request

from app.api.container import services
from app.api.security import client_addr
from app.domain.common.errors import DomainError, ErrorKind
from app.services.audit import Denial
from app.services.ports import RequestContext
from app.services.ports.idempotency import pending_answer

STATUS = {ErrorKind.FORBIDDEN: 403, ErrorKind.NOT_FOUND: 404}

log = structlog.get_logger("accord.denials")


async def keep_denial(request: Request, exc: DomainError) -> None:
    principal = getattr(request.state, "principal", None)
    status = STATUS.get(exc.kind)
    if principal is None or status is None:
        return
    route = request.scope.get("route")
    entity = exc.params.get("entity")
    denial = Denial(status, exc.code, request.method, getattr(route, "path", request.url.path),
                    str(entity) if entity else None,
                    tuple(str(v) for v in request.path_params.values()))
    ctx = RequestContext(principal, getattr(request.state, "request_id", None),
                         client_addr(request))
    pending = pending_answer.get()
    if pending is not None and pending.parked:  # its transaction holds the chain's head
        log.warning("denial_not_audited", refused=exc.code, reason="request committing")
        return
    token = pending_answer.set(None)  # not part of the request's own transaction
    try:
        await services(request).audit.record_denial(ctx, denial)
    except DomainError as failure:
        log.warning("denial_not_audited", code=failure.code, refused=exc.code)
    finally:
        pending_answer.reset(token)
