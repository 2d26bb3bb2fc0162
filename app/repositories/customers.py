"""Customers, contacts, their history and timeline, in SQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    ColumnElement,
    Integer,
    Select,
    Table,
    Uuid,
    and_,
    bindparam,
    delete,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.access.scope import Reach, RecordScope
from app.domain.common.errors import InvalidCursor
from app.domain.common.paging import Page, PageRequest
from app.domain.customers.history import FieldChange
from app.domain.customers.model import (
    ChurnReason,
    Contact,
    ContactChannel,
    Customer,
    CustomerKind,
    Email,
    Phone,
    Stage,
    Tier,
)
from app.repositories.direct import Prepared
from app.repositories.filters import where_given
from app.repositories.paging import _coerce as _cursor_value
from app.repositories.paging import keyset, to_page
from app.repositories.scope import ScopedColumns
from app.repositories.search import SubstringSearch, TrigramSearch, like_pattern
from app.repositories.tables_customers import (
    contact_points,
    contacts,
    customer_external_refs,
    customer_history,
    customer_tags,
    customer_timeline,
    customers,
)
from app.repositories.tables_interactions import contact_schedules
from app.services.ports.customers import (
    CustomerFilter,
    DuplicateHit,
    HistoryEntry,
    Holders,
    ImportedRows,
    TimelineEntry,
)

_CUSTOMER_FIELDS = (
    "id", "name", "kind", "credit_code", "industry", "region", "address", "owner_id",
    "department_id", "shared_with_department", "tags", "needs", "preferred_channel",
    "preferred_time", "custom_attributes", "external_refs", "annual_revenue", "currency",
    "strategic_importance", "growth_potential", "value_score", "tier_computed", "tier_manual",
    "tier_manual_reason", "stage", "churn_reason", "churn_note", "integrity_score",
    "version", "created_at", "updated_at", "archived_at", "merged_into")
_CUSTOMER_COLUMNS = [customers.c[f] for f in _CUSTOMER_FIELDS]
_CONTACT_FIELDS = ("id", "customer_id", "name", "title", "phones", "emails", "im_handle",
                   "preferred_channel", "is_primary", "version", "created_at", "updated_at",
                   "erased_at")
CUSTOMER_SORTS = {"updated_at": customers.c.updated_at, "created_at": customers.c.created_at,
                  "name": customers.c.name}

_SCOPE = ScopedColumns(customers.c.department_id, customers.c.owner_id,
                       customers.c.shared_with_department)

# The hot reads run statements built once, with bind parameters (building a Core statement
# costs about as much as executing it: docs/performance.md). Record scope and filters
# select the statement's shape; their values are parameters.

def _by_id(reach: Reach) -> Select[Any]:
    stmt = select(*_CUSTOMER_COLUMNS).where(customers.c.id == bindparam("customer_id",
                                                                       type_=Uuid))
    condition = _SCOPE.condition(reach)
    return stmt.where(condition) if condition is not None else stmt


_CUSTOMER_BY_ID = {reach: Prepared(_by_id(reach))
                   for reach in (Reach.ALL, Reach.DEPARTMENT, Reach.OWN)}
_CONTACTS_OF = Prepared(
    select(*[contacts.c[f] for f in _CONTACT_FIELDS])
    .where(contacts.c.customer_id == bindparam("customer_id", type_=Uuid))
    .order_by(contacts.c.is_primary.desc(), contacts.c.created_at, contacts.c.id))
# Equality filters of the list: (filter attribute, column, parameter type).
_LIST_EQUALS = (("owner_id", customers.c.owner_id), ("department_id", customers.c.department_id),
                ("tier", customers.c.tier), ("stage", customers.c.stage))
_LIST_SHAPES: dict[tuple[Any, ...], Prepared] = {}


# Stored values → enum members by dictionary look-up: a page maps 50 rows, and calling
# the enum class costs several times as much (docs/performance.md).
_KINDS = {m.value: m for m in CustomerKind}
_STAGES = {m.value: m for m in Stage}
_TIERS = {m.value: m for m in Tier}
_CHURN_REASONS = {m.value: m for m in ChurnReason}
_CHANNELS = {m.value: m for m in ContactChannel}


def _customer(values: dict[str, Any]) -> Customer:
    values["kind"] = _KINDS[values["kind"]]
    values["stage"] = _STAGES[values["stage"]]
    values["tier_computed"] = _TIERS[values["tier_computed"]]
    manual, churn, channel = (values["tier_manual"], values["churn_reason"],
                              values["preferred_channel"])
    values["tier_manual"] = _TIERS[manual] if manual else None
    values["churn_reason"] = _CHURN_REASONS[churn] if churn else None
    values["preferred_channel"] = _CHANNELS[channel] if channel else None
    return Customer(**values)


def _contact(values: dict[str, Any]) -> Contact:
    values["phones"] = [Phone(**p) for p in values["phones"]]
    values["emails"] = [Email(**e) for e in values["emails"]]
    channel = values["preferred_channel"]
    values["preferred_channel"] = _CHANNELS[channel] if channel else None
    return Contact(**values)


def _list_shape(reach: Reach, equals: tuple[str, ...], integrity_below: bool, search: bool,
                include_archived: bool, sort: str, descending: bool,
                after: bool) -> Select[Any]:
    """One shape of the customer list, with parameters named as ``_prebuilt_list`` fills
    them. A search on PostgreSQL runs in two steps: the page's ids from a scan that the
    covering index ``ix_customers_search_walk`` answers without reading the table
    (migration 0009), then those rows by primary key."""
    conditions: list[ColumnElement[bool]] = []
    scope = _SCOPE.condition(reach)
    if scope is not None:
        conditions.append(scope)
    if not include_archived:
        conditions.append(customers.c.archived_at.is_(None))
    for name, column in _LIST_EQUALS:
        if name in equals:
            conditions.append(column == bindparam(f"filter_{name}", type_=column.type))
    if integrity_below:
        conditions.append(customers.c.integrity_score < bindparam("filter_integrity_below",
                                                                  type_=Integer))
    if search:
        conditions.append(customers.c.search_text.like(bindparam("filter_q"), escape="\\"))
    column = CUSTOMER_SORTS[sort]
    if after:
        left = tuple_(column, customers.c.id)
        right = tuple_(bindparam("after_value", type_=column.type),
                       bindparam("after_id", type_=Uuid))
        conditions.append(left < right if descending else left > right)
    order = (column.desc(), customers.c.id.desc()) if descending else \
        (column.asc(), customers.c.id.asc())
    limit = bindparam("page_limit", type_=Integer)
    if not search:
        stmt = select(*_CUSTOMER_COLUMNS)
        if conditions:
            stmt = stmt.where(and_(*conditions))
        return stmt.order_by(*order).limit(limit)
    ids = select(customers.c.id).where(and_(*conditions)).order_by(*order).limit(limit)
    return select(*_CUSTOMER_COLUMNS).where(customers.c.id.in_(ids.scalar_subquery())
                                            ).order_by(*order)


def history_rows(customer_id: UUID, changes: list[FieldChange], *, action: str,
                 actor_id: str | None, request_id: str | None, now: datetime,
                 contact_id: UUID | None = None) -> list[dict[str, Any]]:
    return [{"customer_id": customer_id, "contact_id": contact_id, "occurred_at": now,
             "actor_id": actor_id, "action": action, "field": c.field, "old": c.old,
             "new": c.new, "request_id": request_id, "redacted": False} for c in changes]


def search_text(customer: Customer) -> str:
    names = [customer.name] + [c.name for c in customer.contacts if c.erased_at is None]
    return "\n".join(names).lower()


class SqlCustomerRepository:
    def __init__(self, conn: AsyncConnection, search: SubstringSearch) -> None:
        self._conn = conn
        self._search = search

    # customers -----------------------------------------------------------------------

    def _row(self, customer: Customer) -> dict[str, Any]:
        values = {f: getattr(customer, f) for f in _CUSTOMER_FIELDS}
        values["tier"] = customer.tier
        values["search_text"] = search_text(customer)
        return values

    async def add(self, customer: Customer) -> None:
        await self._conn.execute(insert(customers).values(**self._row(customer)))
        await self._write_side_tables(customer)
        if customer.contacts:  # one statement for all contacts, one for all their points
            await self._conn.execute(insert(contacts), [
                self._contact_row(c) for c in customer.contacts])
            await self._write_points(*customer.contacts)

    async def save(self, customer: Customer) -> None:
        """Write the customer row and its indexes; contacts are written one by one."""
        values = self._row(customer)
        values.pop("id")
        await self._conn.execute(
            update(customers).where(customers.c.id == customer.id).values(**values))
        await self._conn.execute(
            delete(customer_tags).where(customer_tags.c.customer_id == customer.id))
        await self._conn.execute(delete(customer_external_refs).where(
            customer_external_refs.c.customer_id == customer.id))
        await self._write_side_tables(customer)

    async def _write_side_tables(self, customer: Customer) -> None:
        if customer.tags:
            await self._conn.execute(insert(customer_tags), [
                {"customer_id": customer.id, "tag": t} for t in sorted(set(customer.tags))])
        if customer.external_refs:
            await self._conn.execute(insert(customer_external_refs), [
                {"system": s, "external_id": i, "customer_id": customer.id}
                for s, i in sorted(customer.external_refs.items())])

    async def get(self, customer_id: UUID, scope: RecordScope, *,
                  for_update: bool = False) -> Customer | None:
        params = _SCOPE.parameters(scope)
        if for_update or params is None:
            stmt = select(*_CUSTOMER_COLUMNS).where(customers.c.id == customer_id,
                                                    _SCOPE.filter(scope))
            if for_update:
                stmt = stmt.with_for_update()
            found = (await self._conn.execute(stmt)).one_or_none()
            row = found._asdict() if found is not None else None
        else:
            row = await _CUSTOMER_BY_ID[scope.reach].one_or_none(
                self._conn, {"customer_id": customer_id, **params})
        if row is None:
            return None
        customer = _customer(row)
        customer.contacts = await self._contacts_of(customer.id)
        return customer

    async def _contacts_of(self, customer_id: UUID) -> list[Contact]:
        return [_contact(r) for r in await _CONTACTS_OF.rows(self._conn,
                                                             {"customer_id": customer_id})]

    async def contacts_of_many(self, customer_ids: list[UUID]) -> dict[UUID, list[Contact]]:
        found: dict[UUID, list[Contact]] = {i: [] for i in customer_ids}
        if not customer_ids:
            return found
        rows = await self._conn.execute(
            select(*[contacts.c[f] for f in _CONTACT_FIELDS])
            .where(contacts.c.customer_id.in_(customer_ids))
            .order_by(contacts.c.customer_id, contacts.c.is_primary.desc(),
                      contacts.c.created_at, contacts.c.id))
        for row in rows:
            found[row.customer_id].append(_contact(row._asdict()))
        return found

    async def list(self, scope: RecordScope, filters: CustomerFilter,
                   page: PageRequest) -> Page[Customer]:
        prebuilt = self._prebuilt_list(scope, filters, page)
        sort_field = page.sort.field
        if prebuilt is not None:
            prepared, params = prebuilt
            return to_page(await prepared.rows(self._conn, params), page, _customer,
                           lambda r: (r[sort_field], r["id"]))
        stmt = select(*_CUSTOMER_COLUMNS).where(_SCOPE.filter(scope))
        conditions: list[ColumnElement[bool]] = []
        if not filters.include_archived:
            conditions.append(customers.c.archived_at.is_(None))
        conditions += where_given(((customers.c.owner_id, filters.owner_id),
                                   (customers.c.department_id, filters.department_id),
                                   (customers.c.tier, filters.tier),
                                   (customers.c.stage, filters.stage)))
        if filters.updated_since is not None:
            conditions.append(customers.c.updated_at >= filters.updated_since)
        if filters.integrity_below is not None:
            conditions.append(customers.c.integrity_score < filters.integrity_below)
        if filters.tag is not None:
            conditions.append(customers.c.id.in_(
                select(customer_tags.c.customer_id).where(customer_tags.c.tag == filters.tag)))
        if filters.external_ref is not None:
            system, external_id = filters.external_ref
            conditions.append(customers.c.id.in_(
                select(customer_external_refs.c.customer_id).where(
                    customer_external_refs.c.system == system,
                    customer_external_refs.c.external_id == external_id)))
        if filters.q:
            conditions.append(self._search.matches(customers.c.search_text, filters.q.lower()))
        if filters.contact_due_before is not None:
            conditions.append(customers.c.id.in_(select(contact_schedules.c.customer_id).where(
                contact_schedules.c.due_on < filters.contact_due_before)))
        if conditions:
            stmt = stmt.where(and_(*conditions))
        rows = (await self._conn.execute(keyset(stmt, CUSTOMER_SORTS, customers.c.id, page))
                ).all()
        return to_page([r._asdict() for r in rows], page, _customer,
                       lambda r: (r[sort_field], r["id"]))

    def _prebuilt_list(self, scope: RecordScope, filters: CustomerFilter, page: PageRequest
                       ) -> tuple[Prepared, dict[str, Any]] | None:
        """The list's statement for this shape of request, built once, and its parameters;
        None for the shapes built per call (a tag or update-time filter, a search on
        SQLite, a scope without a department). The SQL is the one ``list`` builds below,
        except a search on PostgreSQL, which finds the page's ids first (see
        ``_two_step``)."""
        scope_params = _SCOPE.parameters(scope)
        if scope_params is None or filters.tag is not None or \
                filters.updated_since is not None or filters.contact_due_before is not None \
                or filters.external_ref is not None:
            return None
        search = bool(filters.q)
        if search and not isinstance(self._search, TrigramSearch):
            return None
        params: dict[str, Any] = {**scope_params, "page_limit": page.limit + 1}
        equals = tuple(name for name, _ in _LIST_EQUALS if getattr(filters, name) is not None)
        for name in equals:
            params[f"filter_{name}"] = getattr(filters, name)
        if filters.integrity_below is not None:
            params["filter_integrity_below"] = filters.integrity_below
        if search:
            assert filters.q is not None
            params["filter_q"] = like_pattern(filters.q.lower())
        after = page.after is not None
        if page.after is not None:
            if len(page.after) != 2:
                raise InvalidCursor()
            params["after_value"] = _cursor_value(CUSTOMER_SORTS[page.sort.field],
                                                  page.after[0])
            params["after_id"] = _cursor_value(customers.c.id, page.after[1])
        key = (scope.reach, equals, filters.integrity_below is not None, search,
               filters.include_archived, page.sort.field, page.sort.descending, after)
        prepared = _LIST_SHAPES.get(key)
        if prepared is None:
            prepared = _LIST_SHAPES[key] = Prepared(_list_shape(*key))
        return prepared, params

    async def credit_code_holder(self, credit_code: str,
                                 other_than: UUID | None) -> DuplicateHit | None:
        stmt = select(customers.c.id, customers.c.name).where(
            customers.c.credit_code == credit_code, customers.c.archived_at.is_(None))
        if other_than is not None:
            stmt = stmt.where(customers.c.id != other_than)
        row = (await self._conn.execute(stmt.limit(1))).one_or_none()
        return DuplicateHit(row.id, row.name, "credit_code", credit_code) if row else None

    async def contact_point_holders(self, points: Sequence[tuple[str, str]],
                                    other_than: UUID | None) -> list[DuplicateHit]:
        if not points:
            return []
        wanted = [and_(contact_points.c.kind == k, contact_points.c.value == v)
                  for k, v in points]
        stmt = (select(contact_points.c.kind, contact_points.c.value, customers.c.id,
                       customers.c.name)
                .join(customers, customers.c.id == contact_points.c.customer_id)
                .where(or_(*wanted), customers.c.archived_at.is_(None)))
        if other_than is not None:
            stmt = stmt.where(customers.c.id != other_than)
        rows = await self._conn.execute(stmt)
        return [DuplicateHit(r.id, r.name, r.kind, r.value) for r in rows]

    async def external_ref_holder(self, system: str, external_id: str) -> UUID | None:
        return await self._conn.scalar(select(customer_external_refs.c.customer_id).where(
            customer_external_refs.c.system == system,
            customer_external_refs.c.external_id == external_id))

    async def holders_of_many(self, refs: Sequence[tuple[str, str]], codes: Sequence[str],
                              points: Sequence[tuple[str, str]]) -> Holders:
        """``external_ref_holder``, ``credit_code_holder`` and ``contact_point_holders``
        (without ``other_than``) for many values at once: a statement a system, one
        for the codes and one a kind of contact point."""
        found = Holders({}, {}, {})
        # one ``= ANY`` per system and kind: the indexes answer it, where a long list of
        # (system, id) pairs would be planned as a filter over every row
        for system in sorted({s for s, _ in refs}):
            ids = [i for s, i in refs if s == system]
            rows = await self._conn.execute(
                select(customer_external_refs.c.external_id,
                       customer_external_refs.c.customer_id)
                .where(customer_external_refs.c.system == system,
                       customer_external_refs.c.external_id.in_(ids)))
            found.refs.update({(system, r.external_id): r.customer_id for r in rows})
        if codes:
            rows = await self._conn.execute(
                select(customers.c.id, customers.c.name, customers.c.credit_code)
                .where(customers.c.credit_code.in_(list(codes)),
                       customers.c.archived_at.is_(None)))
            for r in rows:
                found.codes.setdefault(r.credit_code, DuplicateHit(
                    r.id, r.name, "credit_code", r.credit_code))
        for kind in sorted({k for k, _ in points}):
            values = [v for k, v in points if k == kind]
            rows = await self._conn.execute(
                select(contact_points.c.value, customers.c.id, customers.c.name)
                .join(customers, customers.c.id == contact_points.c.customer_id)
                .where(contact_points.c.kind == kind, contact_points.c.value.in_(values),
                       customers.c.archived_at.is_(None)))
            for r in rows:
                found.points.setdefault((kind, r.value), []).append(
                    DuplicateHit(r.id, r.name, kind, r.value))
        return found

    async def add_many(self, new: Sequence[Customer],
                       history: Sequence[tuple[UUID, list[FieldChange], dict[str, Any]]]
                       ) -> None:
        """``add`` and ``add_history`` for many customers: one multi-row insert a table."""
        if new:
            await self._insert_many(customers, [self._row(c) for c in new])
            tags = [{"customer_id": c.id, "tag": t} for c in new for t in sorted(set(c.tags))]
            refs = [{"system": s, "external_id": i, "customer_id": c.id}
                    for c in new for s, i in sorted(c.external_refs.items())]
            people = [x for c in new for x in c.contacts]
            points = [{**p, "customer_id": x.customer_id, "contact_id": x.id}
                      for x in people if x.erased_at is None
                      for p in [{"kind": "phone", "value": ph.number} for ph in x.phones]
                      + [{"kind": "email", "value": e.address.lower()} for e in x.emails]]
            for table, rows in ((customer_tags, tags), (customer_external_refs, refs),
                                (contacts, [self._contact_row(x) for x in people]),
                                (contact_points, points)):
                await self._insert_many(table, rows)
        rows = [r for customer_id, changes, at in history
                for r in history_rows(customer_id, changes, **at)]
        await self._insert_many(customer_history, rows)

    async def add_imported(self, rows: ImportedRows) -> None:
        for table, values in ((customers, rows.customers), (customer_tags, rows.tags),
                              (customer_external_refs, rows.refs), (contacts, rows.contacts),
                              (contact_points, rows.points), (customer_history, rows.history)):
            await self._insert_many(table, values)

    async def _insert_many(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """One multi-row insert; on PostgreSQL a binary COPY of the rows (JSON columns
        as their text, as the JSON type would send them)."""
        if not rows:
            return
        if self._conn.dialect.name != "postgresql":
            await self._conn.execute(insert(table), rows)
            return
        names = list(rows[0])
        encoded = [isinstance(table.c[n].type, JSON) for n in names]
        records = [tuple(json.dumps(r[n]) if e else r[n] for n, e in zip(names, encoded,
                                                                           strict=True))
                   for r in rows]
        raw = await self._conn.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            table.name, records=records, columns=names)

    # contacts ------------------------------------------------------------------------

    def _contact_row(self, contact: Contact) -> dict[str, Any]:
        values = {f: getattr(contact, f) for f in _CONTACT_FIELDS}
        values["phones"] = [{"number": p.number, "verified": p.verified} for p in contact.phones]
        values["emails"] = [{"address": e.address, "verified": e.verified}
                            for e in contact.emails]
        return values

    async def add_contact(self, contact: Contact) -> None:
        await self._conn.execute(insert(contacts).values(**self._contact_row(contact)))
        await self._write_points(contact)

    async def save_contact(self, contact: Contact) -> None:
        values = self._contact_row(contact)
        values.pop("id")
        await self._conn.execute(
            update(contacts).where(contacts.c.id == contact.id).values(**values))
        await self._conn.execute(
            delete(contact_points).where(contact_points.c.contact_id == contact.id))
        await self._write_points(contact)

    async def _write_points(self, *written: Contact) -> None:
        points = [{"kind": kind, "value": value, "customer_id": c.customer_id,
                   "contact_id": c.id}
                  for c in written if c.erased_at is None
                  for kind, value in [*(("phone", p.number) for p in c.phones),
                                      *(("email", e.address.lower()) for e in c.emails)]]
        if points:
            await self._conn.execute(insert(contact_points), points)

    async def move_contacts(self, source_id: UUID, target_id: UUID) -> None:
        await self._conn.execute(update(contacts).where(contacts.c.customer_id == source_id)
                                 .values(customer_id=target_id))
        await self._conn.execute(update(contact_points)
                                 .where(contact_points.c.customer_id == source_id)
                                 .values(customer_id=target_id))

    # history and timeline ------------------------------------------------------------

    async def add_history(self, customer_id: UUID, changes: list[FieldChange], *, action: str,
                          actor_id: str | None, request_id: str | None, now: datetime,
                          contact_id: UUID | None = None) -> None:
        if not changes:
            return
        await self._conn.execute(insert(customer_history), history_rows(
            customer_id, changes, action=action, actor_id=actor_id, request_id=request_id,
            now=now, contact_id=contact_id))

    async def copy_history(self, source_id: UUID, target_id: UUID) -> None:
        """Merging: the source's history is copied onto the target; the source keeps its own."""
        columns = ["contact_id", "occurred_at", "actor_id", "action", "field", "old", "new",
                   "request_id", "redacted"]
        source = select(literal(target_id, type_=Uuid).label("customer_id"),
                        *[customer_history.c[c] for c in columns]
                        ).where(customer_history.c.customer_id == source_id)
        await self._conn.execute(insert(customer_history).from_select(
            ["customer_id", *columns], source.order_by(customer_history.c.id)))

    async def redact_contact_history(self, contact_id: UUID) -> None:
        await self._conn.execute(update(customer_history)
                                 .where(customer_history.c.contact_id == contact_id)
                                 .values(old=None, new=None, redacted=True))

    async def history(self, customer_id: UUID, page: PageRequest) -> Page[HistoryEntry]:
        """By time, not id: entries copied in by a merge keep their original time."""
        stmt = select(customer_history).where(customer_history.c.customer_id == customer_id)
        rows = (await self._conn.execute(keyset(
            stmt, {"occurred_at": customer_history.c.occurred_at}, customer_history.c.id,
            page))).all()
        return to_page(rows, page, lambda r: HistoryEntry(**{k: v for k, v in r._mapping.items()
                                                             if k != "customer_id"}),
                       lambda r: (r.occurred_at, r.id))

    async def timeline(self, customer_id: UUID, page: PageRequest) -> Page[TimelineEntry]:
        stmt = select(customer_timeline).where(customer_timeline.c.customer_id == customer_id)
        rows = (await self._conn.execute(keyset(
            stmt, {"occurred_at": customer_timeline.c.occurred_at}, customer_timeline.c.id,
            page))).all()
        return to_page(rows, page, lambda r: TimelineEntry(**{
            k: v for k, v in r._mapping.items() if k != "customer_id"}),
            lambda r: (r.occurred_at, r.id))

    async def all_ids(self, after: UUID | None, limit: int) -> list[UUID]:
        stmt = select(customers.c.id).order_by(customers.c.id).limit(limit)
        if after is not None:
            stmt = stmt.where(customers.c.id > after)
        return list((await self._conn.execute(stmt)).scalars())


    async def needs_in_use(self, needs: list[str]) -> list[str]:
        """Needs are few per customer and the vocabulary changes rarely: scan in Python
        rather than keep a per-engine JSON containment query."""
        used: set[str] = set()
        rows = await self._conn.stream(select(customers.c.needs).where(
            customers.c.archived_at.is_(None)))
        async for (values,) in rows:
            used.update(v for v in values if v in needs)
        return sorted(used)
