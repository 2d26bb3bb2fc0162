"""Ports of bulk jobs: the job table and the files a job reads and writes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, Protocol
from uuid import UUID

from app.domain.access.scope import RecordScope
from app.domain.bulk.model import BulkJob, JobKind, RowProblem
from app.services.ports.customers import CustomerFilter


class BulkJobRepository(Protocol):
    async def add(self, job: BulkJob) -> None: ...
    async def get(self, job_id: UUID, *, for_update: bool = False) -> BulkJob | None: ...
    async def save(self, job: BulkJob) -> None: ...
    async def next_claimable(self, kind: JobKind, now: datetime,
                             only: UUID | None = None) -> BulkJob | None:
        """The oldest queued job (or job ``only``), or a running one whose lease ran out,
        locked; jobs another worker holds locked are skipped (``FOR UPDATE SKIP
        LOCKED``)."""
        ...
    async def add_problems(self, job_id: UUID, problems: list[RowProblem]) -> None: ...
    async def problems(self, job_id: UUID, after: int,
                       limit: int) -> list[tuple[int, RowProblem]]:
        """A page of the job's rejected rows in the order found, after the ``after``th."""
        ...
    async def user_by_login(self, login: str) -> UUID | None:
        """An active user by username or e-mail (case-insensitive e-mail)."""
        ...
    async def customer_by_name(self, name: str, scope: RecordScope) -> UUID | None: ...
    async def expired(self, now: datetime, limit: int) -> list[BulkJob]: ...


class ImportKeys(Protocol):
    """What identifies each row an import job accepted (``ref:…``, ``code:…``, ``phone:…``,
    ``email:…``) with the row's file and line: the job's memory of its file, kept by the
    store so that it does not grow with the file in the worker."""

    async def seen(self, job_id: UUID, keys: Sequence[str]) -> dict[str, tuple[str, int]]:
        """Those of ``keys`` an earlier row of the job holds, with that row's file and line."""
        ...
    async def remember(self, job_id: UUID, keys: Sequence[tuple[str, str, int]]) -> None:
        """(key, file, line) of rows just accepted; a key is held by its first row."""
        ...
    async def forget(self, job_id: UUID) -> None: ...
    async def analyze(self) -> None:
        """Fresh planner statistics for the customer tables after a large import (the
        list and search read paths plan by them); nothing where the engine keeps none."""
        ...


@dataclass(frozen=True)
class StoredFile:
    key: str
    sha256: str
    size: int


class RecordWriter(Protocol):
    def write(self, record: Mapping[str, Any]) -> None: ...


class JobFiles(Protocol):
    """Where uploads and export results live while their job needs them."""

    def store(self, name: str, stream: BinaryIO) -> StoredFile: ...
    def rows(self, key: str, name: str) -> Iterator[tuple[int, dict[str, str]]]:
        """The data rows of a CSV (UTF-8 with or without BOM, or GB18030) or XLSX file,
        with their line numbers (the header is line 1), read as a stream."""
        ...
    def writer(self, key: str, fmt: str,
               columns: tuple[str, ...]) -> AbstractContextManager[RecordWriter]: ...
    def bytes_writer(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A result file written as bytes (the database's own COPY output), published
        under ``key`` when the block ends without an error."""
        ...
    def new_key(self, suffix: str) -> str: ...
    def path(self, key: str) -> str | None: ...
    def remove(self, key: str) -> None: ...


class CustomerCopy(Protocol):
    async def copy_customers(self, scope: RecordScope, filters: CustomerFilter, *, fmt: str,
                             with_contacts: bool,
                             sink: Callable[[bytes], Awaitable[None]]) -> int | None:
        """The customer export's rows (CSV with its header, or JSON Lines) written by the
        database itself, in the export's columns, scope, filters and order; the number of
        rows, or None where the engine has no such path (then export page by page)."""
        ...
