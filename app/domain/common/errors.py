"""Domain errors. Each has a stable ``code`` (part of the API contract) and a ``kind``
that the HTTP adapter maps to a status; human wording lives with the adapter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

_T = TypeVar("_T")


class ErrorKind(StrEnum):
    BAD_REQUEST = "bad_request"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    GONE = "gone"
    CONFLICT = "conflict"
    PRECONDITION_FAILED = "precondition_failed"
    INVALID = "invalid"
    PRECONDITION_REQUIRED = "precondition_required"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class FieldError:
    """One invalid input field: a JSON pointer into the request and a message key."""

    pointer: str
    reason: str
    params: dict[str, Any] | None = None


class DomainError(Exception):
    code: ClassVar[str] = "domain_error"
    kind: ClassVar[ErrorKind] = ErrorKind.CONFLICT

    def __init__(self, field_errors: list[FieldError] | None = None, **params: Any) -> None:
        super().__init__(f"{self.code}: {params}")
        self.params = params
        self.field_errors = field_errors or []
        # Extra members for the problem body (RFC 9457 extensions), e.g. the duplicates.
        self.extensions: dict[str, Any] = {}


class NotFound(DomainError):
    """Missing, or outside the caller's record scope: the two are indistinguishable."""

    code = "not_found"
    kind = ErrorKind.NOT_FOUND


class Duplicate(DomainError):
    code = "duplicate"
    kind = ErrorKind.CONFLICT

    def __init__(self, *, field: str, value: str) -> None:
        super().__init__([FieldError(f"/{field}", "duplicate")], field=field, value=value)


class InvalidInput(DomainError):
    code = "validation_failed"
    kind = ErrorKind.INVALID


class InvalidState(DomainError):
    code = "invalid_state"
    kind = ErrorKind.CONFLICT


class TransitionNotAllowed(DomainError):
    """A workflow action taken from a state it does not leave from (any workflow)."""

    code = "transition_not_allowed"
    kind = ErrorKind.CONFLICT


class NotYourAction(DomainError):
    code = "action_not_permitted"
    kind = ErrorKind.FORBIDDEN


class PreconditionUnmet(DomainError):
    code = "precondition_unmet"
    kind = ErrorKind.CONFLICT


class VersionMismatch(DomainError):
    code = "precondition_failed"
    kind = ErrorKind.PRECONDITION_FAILED


class VersionRequired(DomainError):
    code = "precondition_required"
    kind = ErrorKind.PRECONDITION_REQUIRED


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    kind = ErrorKind.UNAUTHENTICATED


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    kind = ErrorKind.UNAUTHENTICATED


class InvalidToken(DomainError):
    code = "invalid_token"
    kind = ErrorKind.UNAUTHENTICATED


class RefreshTokenReused(DomainError):
    code = "refresh_token_reused"
    kind = ErrorKind.UNAUTHENTICATED


class Forbidden(DomainError):
    code = "forbidden"
    kind = ErrorKind.FORBIDDEN


class TooManyAttempts(DomainError):
    code = "too_many_login_attempts"
    kind = ErrorKind.RATE_LIMITED

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s


class TooManyRequests(TooManyAttempts):
    """Any other throttled endpoint (e.g. the public survey page), with its Retry-After."""

    code = "too_many_requests"


class InvalidCursor(DomainError):
    code = "invalid_cursor"
    kind = ErrorKind.BAD_REQUEST


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    kind = ErrorKind.INVALID


class IdempotencyKeyInFlight(DomainError):
    code = "idempotency_key_in_flight"
    kind = ErrorKind.CONFLICT


class StorageUnavailable(DomainError):
    code = "database_unavailable"
    kind = ErrorKind.UNAVAILABLE


class StorageContention(StorageUnavailable):
    """The database undid the transaction to break a deadlock or a serialization
    conflict: nothing of it remains, so the use case may run again from the start."""


class WriteConflict(DomainError):
    """A concurrent write got there first (a unique key or lock the store enforced)."""

    code = "write_conflict"
    kind = ErrorKind.CONFLICT


class FieldErrors:
    """Collects every invalid field of one request, so the caller hears of all at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def check(self, validate: Callable[..., _T], *args: Any) -> _T | None:
        try:
            return validate(*args)
        except InvalidInput as exc:
            self.errors.extend(exc.field_errors)
            return None

    def add(self, pointer: str, reason: str, **params: Any) -> None:
        self.errors.append(FieldError(pointer, reason, params or None))

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)
