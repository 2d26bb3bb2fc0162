"""Errors of bulk jobs, with stable codes (a row's refusal reuses the customer codes)."""

from __future__ import annotations

from app.domain.common.errors import DomainError, ErrorKind


class CustomerExists(DomainError):
    """A ``create`` import row whose customer (by id, external reference or credit code)
    is already in Accord: ``upsert`` would update it."""

    code = "customer_exists"
    kind = ErrorKind.CONFLICT


class ExportNotReady(DomainError):
    code = "export_not_ready"
    kind = ErrorKind.CONFLICT


class ExportExpired(DomainError):
    code = "export_expired"
    kind = ErrorKind.GONE
