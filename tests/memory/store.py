"""The in-memory database: tables of domain objects that units of work copy on entry and
publish on commit, plus the append-only audit chain and outbox a commit writes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, TypeVar
from uuid import UUID

from app.domain.access.users import Department, User
from app.domain.audit.chain import GENESIS_HASH, AuditRecord, entry_body, link_hash
from app.domain.audit.checkpoint import Checkpoint
from app.domain.change_requests.model import ApprovalStep, AssessmentEntry, ChangeRequest, Task
from app.domain.common.errors import WriteConflict
from app.domain.common.events import DomainEvent
from app.domain.common.paging import Page, PageRequest
from app.domain.customers.model import Contact, Customer
from app.domain.handovers.model import Handover
from app.domain.plans.model import Plan
from app.domain.risk.register import Risk
from app.domain.surveys.model import Invitation
from app.domain.training.model import Completion, Course
from app.services.ports.feedback import FeedbackRecord

T = TypeVar("T")


@dataclass
class Tables:
    """The rows. Aggregates are kept as the SQL tables keep them: a change request or
    handover without its parts, each part in its own table, so a part the use case forgot
    to save is lost here as it is there."""

    departments: dict[UUID, Department] = field(default_factory=dict)
    users: dict[UUID, User] = field(default_factory=dict)
    policies: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)
    customers: dict[UUID, Customer] = field(default_factory=dict)  # contacts apart
    contacts: dict[UUID, Contact] = field(default_factory=dict)
    customer_history: list[dict[str, Any]] = field(default_factory=list)
    change_requests: dict[UUID, ChangeRequest] = field(default_factory=dict)  # parts apart
    assessments: list[tuple[UUID, AssessmentEntry]] = field(default_factory=list)
    steps: dict[UUID, tuple[UUID, int, ApprovalStep]] = field(default_factory=dict)
    tasks: dict[UUID, tuple[UUID, Task]] = field(default_factory=dict)
    cr_entries: list[tuple[str, UUID, dict[str, Any]]] = field(default_factory=list)
    delegations: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    handovers: dict[UUID, Handover] = field(default_factory=dict)  # parts apart
    handover_parts: dict[UUID, dict[str, list[Any]]] = field(default_factory=dict)
    handover_batches: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    risks: dict[UUID, Risk] = field(default_factory=dict)
    feedback: dict[UUID, FeedbackRecord] = field(default_factory=dict)
    invitations: dict[UUID, Invitation] = field(default_factory=dict)
    plans: dict[UUID, Plan] = field(default_factory=dict)
    training_courses: dict[UUID, Course] = field(default_factory=dict)
    training_completions: list[Completion] = field(default_factory=list)


class Working:
    """The tables as one unit of work sees them: each copied from the committed ones the
    first time a repository touches it (a use case touches a few of them)."""

    def __init__(self, committed: Tables) -> None:
        self._committed = committed
        self.touched: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self.touched:
            self.touched[name] = copied(getattr(self._committed, name))
        return self.touched[name]


class MemoryStore:
    """What is committed. A unit of work works on copies of the tables and publishes them
    on commit; a commit from a unit that began before the last one published is refused
    as a write conflict (optimistic, where SQL takes row locks), so no commit is lost."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.generation = 0
        self.audit: list[AuditRecord] = []
        self.checkpoints: list[Checkpoint] = []
        self.outbox: list[DomainEvent] = []
        self.timeline: list[dict[str, Any]] = []

    def checkout(self) -> tuple[Working, int]:
        return Working(self.tables), self.generation

    def publish(self, working: Working, generation: int, audit: list[dict[str, Any]],
                events: list[DomainEvent], now: datetime, actor_id: str | None) -> int:
        """The unit's copies become the committed tables; it copies afresh on next use."""
        if generation != self.generation:
            raise WriteConflict()
        for name, table in working.touched.items():
            setattr(self.tables, name, table)
        working.touched = {}
        self.generation += 1
        self.outbox.extend(events)
        self.timeline.extend({"customer_id": e.customer_id, "occurred_at": e.occurred_at,
                              "type": e.type, "entity_type": e.entity_type,
                              "entity_id": str(e.entity_id), "actor_id": actor_id,
                              "data": e.data} for e in events if e.customer_id is not None)
        for entry in audit:
            self._append(entry, now)
        return self.generation

    def _append(self, entry: dict[str, Any], now: datetime) -> None:
        """Chained as ``SqlAuditLog.append`` chains it; before and after as the JSON column
        gives them back (the canonical body is what the hash covers)."""
        body = entry_body(occurred_at=now, **entry)
        seq, prev = self.head()
        stored = json.loads(body)
        self.audit.append(AuditRecord(
            seq=seq + 1, occurred_at=now, **{**entry, "before": stored["before"],
                                             "after": stored["after"]},
            prev_hash=prev, hash=link_hash(prev, seq + 1, body)))

    def head(self) -> tuple[int, str]:
        return (self.audit[-1].seq, self.audit[-1].hash) if self.audit else (0, GENESIS_HASH)

    def audited(self, action: str) -> list[AuditRecord]:
        return [a for a in self.audit if a.action == action]

    def events(self, type_: str) -> list[DomainEvent]:
        return [e for e in self.outbox if e.type == type_]


_IMMUTABLE = (str, int, float, type(None), UUID, datetime, date, Decimal, Enum, frozenset)


def copied(value: T) -> T:
    """Rows leave and enter the tables as copies, as they leave and enter a database.
    ``deepcopy`` would do, at several times the cost: values are copied knowing that
    enums, ids, times and frozen dataclasses never change."""
    if isinstance(value, _IMMUTABLE):
        return value
    if isinstance(value, list):
        return [copied(v) for v in value]  # type: ignore[return-value]
    if isinstance(value, dict):
        return {k: copied(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, tuple):
        return tuple(copied(v) for v in value)  # type: ignore[return-value]
    params = getattr(value, "__dataclass_params__", None)
    if params is not None:
        if params.frozen:
            return value
        twin = object.__new__(type(value))
        twin.__dict__.update({k: copied(v) for k, v in value.__dict__.items()})
        return twin
    return deepcopy(value)


def page_of(items: Iterable[T], page: PageRequest, key: Callable[[T], Any],
            id_of: Callable[[T], Any]) -> Page[T]:
    """Keyset paging as ``repositories.paging`` does it: (sort key, id) after the cursor,
    one extra row to know there is more."""
    ordered = sorted(items, key=lambda i: (key(i), id_of(i)), reverse=page.sort.descending)
    if page.after is not None:
        after = tuple(page.after)
        ordered = [i for i in ordered if ((key(i), id_of(i)) < after if page.sort.descending
                                          else (key(i), id_of(i)) > after)]
    rows = ordered[: page.limit + 1]
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return Page(rows, (key(rows[-1]), id_of(rows[-1])) if more and rows else None)


class Rows(Generic[T]):
    """``add`` and ``save`` of a table of domain objects keyed by their id."""

    def __init__(self, tables: Working, name: str) -> None:
        self._tables = tables
        self._name = name

    @property
    def _rows(self) -> dict[UUID, T]:
        return getattr(self._tables, self._name)  # type: ignore[no-any-return]

    async def add(self, row: T) -> None:
        key = row.id  # type: ignore[attr-defined]
        if key in self._rows:
            raise WriteConflict()  # the primary key
        self._rows[key] = copied(row)

    async def save(self, row: T) -> None:
        key = row.id  # type: ignore[attr-defined]
        assert key in self._rows, "save of a row never added"
        self._rows[key] = copied(row)

    def _found(self, key: UUID) -> T | None:
        row = self._rows.get(key)
        return None if row is None else copied(row)
