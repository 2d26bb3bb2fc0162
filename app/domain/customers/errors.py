"""Errors of the customer archive, with stable codes."""

from __future__ import annotations

from typing import Any

from app.domain.common.errors import DomainError, ErrorKind


class DuplicateCustomer(DomainError):
    """A credit code, phone or e-mail already belongs to another customer; the problem
    names that customer so the caller can open it, merge, or create anyway with a reason."""

    code = "duplicate_customer"
    kind = ErrorKind.CONFLICT

    def __init__(self, hits: list[dict[str, Any]]) -> None:
        first = hits[0]
        super().__init__(existing_id=first["customer_id"], existing_name=first["customer_name"],
                         field=first["kind"], value=first["value"])
        self.extensions = {"duplicates": hits}


class ExternalRefTaken(DomainError):
    """Another customer holds this CRM id; the problem names it (``holder``) when the
    caller may read it, so an integration can link to it instead of guessing."""

    code = "external_ref_taken"
    kind = ErrorKind.CONFLICT

    def __init__(self, *, system: str, external_id: str,
                 holder: dict[str, Any] | None = None) -> None:
        super().__init__(system=system, external_id=external_id)
        if holder is not None:
            self.extensions = {"holder": holder}


class OwnerNotAllowed(DomainError):
    code = "owner_not_allowed"
    kind = ErrorKind.INVALID
