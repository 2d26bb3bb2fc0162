"""Storage failures as domain errors: nothing about SQL reaches the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from app.domain.common.errors import StorageContention, StorageUnavailable, WriteConflict

# SQLSTATEs after which the database has undone the whole transaction and a new attempt
# may succeed: serialization failure, deadlock detected.
_CONTENTION = frozenset({"40001", "40P01"})
# The server is going away or cannot take the connection: connection exceptions (08…),
# too many connections, operator intervention (admin / crash shutdown, cannot connect now).
_UNAVAILABLE_CLASSES = ("08", "53", "57P")


def _sqlstate(exc: DBAPIError) -> str:
    return str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")


@asynccontextmanager
async def translate_storage_errors() -> AsyncIterator[None]:
    """A lost race is a conflict (409); a deadlock or serialization failure is
    ``StorageContention`` (the request may run again); an unreachable or departing
    database is 503."""
    try:
        yield
    except IntegrityError as exc:
        raise WriteConflict() from exc
    except DBAPIError as exc:
        state = _sqlstate(exc)
        if state in _CONTENTION:
            raise StorageContention() from exc
        if (isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated
                or state.startswith(_UNAVAILABLE_CLASSES)):
            raise StorageUnavailable() from exc
        raise
    except OSError as exc:
        raise StorageUnavailable() from exc
