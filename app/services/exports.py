"""Bulk export of customers (with contacts), change requests and feedback (issue 17):
a job the worker runs page by page through the list use cases' own filters and record
scope, writing CSV (UTF-8 with BOM) or JSON Lines at constant memory. The file may be
fetched by the caller who asked for it, until it expires."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from app.domain.access.scope import read_scope
from app.domain.bulk.errors import ExportExpired, ExportNotReady
from app.domain.bulk.model import BulkJob, ExportEntity, ExportFormat, JobKind, JobState
from app.domain.bulk.presets import EXPORT_COLUMNS
from app.domain.bulk.workflow import Party, apply
from app.domain.change_requests.model import ChangeRequest
from app.domain.common.errors import NotFound
from app.domain.common.ids import new_id
from app.domain.common.paging import PageRequest, Sort
from app.domain.customers.model import Contact, Customer
from app.domain.feedback.model import FeedbackItem
from app.services.imports import BulkJobs, principal_data, principal_of
from app.services.ports import Clock, RequestContext
from app.services.ports.bulk import JobFiles, RecordWriter
from app.services.ports.change_requests import ChangeRequestFilter
from app.services.ports.customers import CustomerFilter
from app.services.ports.feedback import FeedbackFilter
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

PAGE = 1000
MEDIA_TYPES = {ExportFormat.CSV: "text/csv; charset=utf-8",
               ExportFormat.JSONL: "application/x-ndjson"}
CHANGE_REQUEST_COLUMNS = tuple(f.name for f in fields(ChangeRequest))
FEEDBACK_COLUMNS = tuple(f.name for f in fields(FeedbackItem))


@dataclass(frozen=True)
class ExportRequest:
    entity: ExportEntity
    format: ExportFormat = ExportFormat.CSV
    include_contacts: bool = True
    filters: dict[str, Any] | None = None  # the list's filters, as JSON values


@dataclass(frozen=True)
class ExportFile:
    path: str
    filename: str
    media_type: str


def contact_record(contact: Contact) -> dict[str, Any]:
    return {"name": contact.name, "title": contact.title,
            "phones": [{"number": p.number, "verified": p.verified} for p in contact.phones],
            "emails": [{"address": e.address, "verified": e.verified} for e in contact.emails],
            "im_handle": contact.im_handle, "preferred_channel": contact.preferred_channel,
            "is_primary": contact.is_primary}


def customer_record(customer: Customer, owner: str,
                    contacts: list[Contact] | None) -> dict[str, Any]:
    """A customer in the columns the ``accord`` import preset reads back."""
    record: dict[str, Any] = {
        "id": str(customer.id), "name": customer.name, "kind": customer.kind.value,
        "credit_code": customer.credit_code, "industry": customer.industry,
        "region": customer.region, "address": customer.address, "owner": owner,
        "annual_revenue": None if customer.annual_revenue is None
        else str(customer.annual_revenue),
        "currency": customer.currency, "tags": customer.tags, "needs": customer.needs,
        "preferred_channel": customer.preferred_channel, "preferred_time": customer.preferred_time,
        "strategic_importance": customer.strategic_importance,
        "growth_potential": customer.growth_potential,
        "shared_with_department": customer.shared_with_department,
        "custom_attributes": customer.custom_attributes,
        "external_refs": customer.external_refs,
        "tier": customer.tier.value, "stage": customer.stage.value,
        "integrity_score": customer.integrity_score,
        "created_at": customer.created_at.isoformat(),
        "updated_at": customer.updated_at.isoformat()}
    if contacts is not None:
        record["contacts"] = [contact_record(c) for c in contacts if c.erased_at is None]
    return record


def _plain(value: Any) -> Any:
    """A record's value as JSON data (enums as their value, ids and amounts as text)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and not isinstance(value, str | int | float | bool):
        return value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value) if not hasattr(value, "isoformat") else value.isoformat()


def _next(page: PageRequest, after: tuple[Any, ...]) -> PageRequest:
    """The next page, its position written as a cursor carries it (text)."""
    return PageRequest(page.sort, page.limit, tuple(
        v.isoformat() if hasattr(v, "isoformat") else str(v) for v in after))


def _uuid(value: Any) -> UUID | None:
    return None if value in (None, "") else UUID(str(value))


def _customer_filter(raw: dict[str, Any]) -> CustomerFilter:
    """The customer list's filters an export job keeps as JSON."""
    return CustomerFilter(
        owner_id=_uuid(raw.get("owner_id")), department_id=_uuid(raw.get("department_id")),
        tier=raw.get("tier"), stage=raw.get("stage"), tag=raw.get("tag"),
        updated_since=None if not raw.get("updated_since") else
        datetime.fromisoformat(raw["updated_since"]),
        include_archived=bool(raw.get("include_archived")))


class ExportService(BulkJobs):
    kind = JobKind.EXPORT

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, files: JobFiles, *,
                 ttl: timedelta = timedelta(hours=24),
                 lease: timedelta = timedelta(minutes=5)) -> None:
        super().__init__(uow, clock, files, lease=lease)
        self._ttl = ttl
        self.page_size = PAGE

    async def submit(self, ctx: RequestContext, request: ExportRequest) -> BulkJob:
        principal = ctx.actor
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            job = BulkJob(id=new_id(), kind=JobKind.EXPORT, state=JobState.QUEUED,
                          created_by=principal.id, principal=principal_data(principal),
                          options={"entity": request.entity.value,
                                   "format": request.format.value,
                                   "include_contacts": request.include_contacts,
                                   "filters": request.filters or {}},
                          created_at=now, counts={"rows": 0})
            await uow.bulk_jobs.add(job)
            await uow.commit()
            return job

    async def download(self, ctx: RequestContext, job_id: UUID) -> ExportFile:
        """Only the caller who asked for the export, while it is kept."""
        async with self._uow(ctx, write=False) as uow:
            job = await self._visible(uow, ctx, job_id)
        if job.created_by != ctx.actor.id:  # an administrator sees the job, not the file
            raise NotFound(entity="export_job")
        if job.state is not JobState.COMPLETED:
            raise ExportNotReady(state=job.state.value)
        path = None if job.result_key is None else self._files.path(job.result_key)
        if path is None or job.expires_at is None or job.expires_at <= self._clock.now():
            raise ExportExpired()
        fmt = ExportFormat(job.options["format"])
        return ExportFile(path, f"{job.options['entity']}-{job.id}.{fmt.value}",
                          MEDIA_TYPES[fmt])

    async def run_queued(self, *, limit: int | None = None, only: UUID | None = None) -> int:
        """Run queued exports (and ones whose worker died: they start over) until none is
        left or ``limit`` ran, after removing expired files; the number run."""
        await self.purge_expired()
        return await self._run_all(limit, only, self._run)

    async def purge_expired(self) -> int:
        now = self._clock.now()
        async with self._uow(RequestContext(None, "worker")) as uow:
            expired = await uow.bulk_jobs.expired(now, 100)
            for job in expired:
                assert job.result_key is not None
                self._files.remove(job.result_key)
                job.result_key = None
                await uow.bulk_jobs.save(job)
            await uow.commit()
            return len(expired)

    async def _run(self, job: BulkJob, owner: str) -> None:
        ctx = RequestContext(principal_of(job.principal), f"export:{job.id}")
        fmt = ExportFormat(job.options["format"])
        entity = ExportEntity(job.options["entity"])
        key = self._files.new_key(f".{fmt.value}")
        columns = {ExportEntity.CUSTOMERS: EXPORT_COLUMNS,
                   ExportEntity.CHANGE_REQUESTS: CHANGE_REQUEST_COLUMNS,
                   ExportEntity.FEEDBACK: FEEDBACK_COLUMNS}[entity]
        if entity is ExportEntity.CUSTOMERS and not job.options["include_contacts"]:
            columns = tuple(c for c in columns if c != "contacts")
        copied, rows = False, None
        if entity is ExportEntity.CUSTOMERS:
            copied, rows = await self._copied(ctx, job, key, fmt)
        if not copied:
            with self._files.writer(key, fmt.value, columns) as writer:
                pages = {ExportEntity.CUSTOMERS: self._customers,
                         ExportEntity.CHANGE_REQUESTS: self._change_requests,
                         ExportEntity.FEEDBACK: self._feedback}[entity]
                rows = await pages(ctx, job, writer)
        if rows is None:  # cancelled on the way
            self._files.remove(key)
            return
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            held = await self._held(uow, job.id, owner)
            if held is None:
                self._files.remove(key)
                return
            done = apply(held, "complete", frozenset({Party.WORKER}), now)
            done.result_key, done.expires_at = key, now + self._ttl
            done.counts = {"rows": rows}
            done.position = rows
            uow.record_change("export.completed", "export", job.id,
                              after={"entity": entity.value, "format": fmt.value,
                                     "rows": rows, "filters": job.options["filters"]},
                              event={"entity": entity.value, "rows": rows}, at=now)
            await uow.bulk_jobs.save(done)
            await uow.commit()

    async def _still_ours(self, uow: UnitOfWork, job: BulkJob) -> bool:
        current = await uow.bulk_jobs.get(job.id)
        return current is not None and current.state is JobState.RUNNING and \
            current.lease_owner == job.lease_owner

    async def _copied(self, ctx: RequestContext, job: BulkJob, key: str,
                      fmt: ExportFormat) -> tuple[bool, int | None]:
        """The customers written by the database in one streamed COPY (PostgreSQL):
        (whether the engine has that path, the rows written or None if cancelled)."""
        async with self._uow(ctx, write=False) as uow:
            if not await self._still_ours(uow, job):
                return True, None
            with self._files.bytes_writer(key) as out:
                if fmt is ExportFormat.CSV:
                    out.write(b"\xef\xbb\xbf")  # Excel then reads UTF-8 (Chinese) correctly

                async def sink(block: bytes) -> None:
                    out.write(block)

                rows = await uow.customer_copy.copy_customers(
                    read_scope(ctx.actor), _customer_filter(job.options["filters"]),
                    fmt=fmt.value, with_contacts=bool(job.options["include_contacts"]),
                    sink=sink)
            if rows is None:
                self._files.remove(key)
            return rows is not None, rows

    async def _customers(self, ctx: RequestContext, job: BulkJob,
                         writer: RecordWriter) -> int | None:
        filters = _customer_filter(job.options["filters"])
        with_contacts = bool(job.options["include_contacts"])
        scope = read_scope(ctx.actor)
        owners: dict[UUID, str] = {}
        page = PageRequest(Sort("created_at"), self.page_size)
        rows = 0
        while True:
            async with self._uow(ctx, write=False) as uow:
                if not await self._still_ours(uow, job):
                    return None
                found = await uow.customers.list(scope, filters, page)
                contacts = await uow.customers.contacts_of_many(
                    [c.id for c in found.items]) if with_contacts else {}
                for owner_id in {c.owner_id for c in found.items} - owners.keys():
                    user = await uow.users.get(owner_id)
                    owners[owner_id] = user.username if user else str(owner_id)
            for customer in found.items:
                writer.write(customer_record(customer, owners[customer.owner_id],
                                             contacts.get(customer.id) if with_contacts
                                             else None))
            rows += len(found.items)
            if found.next_after is None:
                return rows
            page = _next(page, found.next_after)

    async def _change_requests(self, ctx: RequestContext, job: BulkJob,
                               writer: RecordWriter) -> int | None:
        return await self._records(ctx, job, writer, "created_at", ChangeRequestFilter,
                                   lambda uow: uow.change_requests, lambda cr: cr)

    async def _feedback(self, ctx: RequestContext, job: BulkJob,
                        writer: RecordWriter) -> int | None:
        return await self._records(ctx, job, writer, "received_at", FeedbackFilter,
                                   lambda uow: uow.feedback, lambda view: view.item)

    async def _records(self, ctx: RequestContext, job: BulkJob, writer: RecordWriter,
                       sort: str, filter_type: Any, repository: Any, item: Any) -> int | None:
        """A feature's list (its ``customer_id`` and ``state`` filters, the caller's read
        scope), every field of each record as a column."""
        raw = job.options["filters"]
        filters = filter_type(state=raw.get("state"), customer_id=_uuid(raw.get("customer_id")))
        return await self._pages(ctx, job, writer, sort,
                                 lambda uow, page: repository(uow).list(
                                     read_scope(ctx.actor), filters, page),
                                 lambda found: _plain(asdict(item(found))))

    async def _pages(self, ctx: RequestContext, job: BulkJob, writer: RecordWriter,
                     sort: str, read: Any, record: Any) -> int | None:
        page = PageRequest(Sort(sort), self.page_size)
        rows = 0
        while True:
            async with self._uow(ctx, write=False) as uow:
                if not await self._still_ours(uow, job):
                    return None
                found = await read(uow, page)
            for item in found.items:
                writer.write(record(item))
            rows += len(found.items)
            if found.next_after is None:
                return rows
            page = _next(page, found.next_after)
