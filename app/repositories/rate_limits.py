"""The general rate limit's counters. On PostgreSQL one statement per request, outside any
transaction: an upsert that starts or advances the caller's window and returns its count,
so every API process sharing the database counts the same requests. On SQLite (a single
host, and one writer at a time) a process's own dictionary: a write transaction per request
would queue every read behind the write lock."""

from __future__ import annotations

from sqlalchemy import bindparam, case
from sqlalchemy.dialects.postgresql import insert

from app.repositories.database import Engines
from app.repositories.direct import Prepared
from app.repositories.storage_errors import translate_storage_errors
from app.repositories.tables import rate_limit_counters as counters

_stmt = insert(counters).values(key=bindparam("key"), window_no=bindparam("window_no"), hits=1)
_HIT = Prepared(_stmt.on_conflict_do_update(
    index_elements=[counters.c.key],
    set_={"hits": case((counters.c.window_no == _stmt.excluded.window_no, counters.c.hits + 1),
                       else_=1),
          "window_no": _stmt.excluded.window_no},
).returning(counters.c.hits))


class SqlRateCounter:
    def __init__(self, engines: Engines) -> None:
        self._engines = engines

    async def hit(self, key: str, window: int) -> int:
        async with translate_storage_errors(), self._engines.read.connect() as conn:
            # autocommit: the statement is its own transaction, one round trip
            row = await _HIT.one_or_none(conn, {"key": key, "window_no": window})
        assert row is not None
        return int(row["hits"])


class ProcessRateCounter:
    """Counts in this process only (SQLite deployments run one host)."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}

    async def hit(self, key: str, window: int) -> int:
        current, hits = self._windows.get(key, (window, 0))
        hits = hits + 1 if current == window else 1
        self._windows[key] = (window, hits)
        if len(self._windows) > 100_000:  # forget callers of windows gone by
            self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        return hits
