"""Bulk import of customers and their contacts (issue 17): a job the worker runs in
committed chunks, by the rules of a single create, resumable after a crash.

Submitting stores the files and queues the job. ``run_queued`` (the worker's task, called
directly by tests and the CLI) claims a job, reads its rows from the resume point, and
commits each chunk's customers together with the job's new position and counts — so a
worker killed mid-job leaves either a whole chunk or nothing, and the next claim (after the
lease runs out) goes on from the last committed chunk without duplicating a customer."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, BinaryIO
from uuid import UUID

from app.domain.access.principal import Principal, PrincipalKind
from app.domain.access.roles import Role, Scope
from app.domain.access.scope import write_scope
from app.domain.bulk.errors import CustomerExists
from app.domain.bulk.model import (
    IMPORT_COUNTS,
    BulkJob,
    ImportMode,
    JobKind,
    JobState,
    RowProblem,
)
from app.domain.bulk.presets import CONTACT_TARGETS, CUSTOMER_TARGETS, PRESETS, Preset
from app.domain.bulk.rows import RowData, check_mapping, column_of_pointer, read_row
from app.domain.bulk.workflow import Party, apply
from app.domain.common.errors import DomainError, FieldError, InvalidInput, NotFound
from app.domain.common.ids import new_id
from app.domain.customers import validation
from app.domain.customers.errors import DuplicateCustomer, ExternalRefTaken, OwnerNotAllowed
from app.domain.customers.model import ContactChannel, CustomerKind, Email, Phone
from app.services.auth import user_principal
from app.services.customers import (
    ContactInput,
    CustomerInput,
    CustomerService,
    ImportRules,
    NewCustomer,
    Source,
)
from app.services.import_batch import BatchedCustomers, BatchedUnitOfWork
from app.services.ports import Clock, RequestContext
from app.services.ports.bulk import JobFiles
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

ACCOUNTS, CONTACTS = "accounts", "contacts"
_NOT_FIELDS = {"id", "owner", "external_id", "contacts"}


@dataclass(frozen=True)
class ImportOptions:
    mode: ImportMode = ImportMode.CREATE
    dry_run: bool = False
    preset: str | None = None
    mapping: dict[str, str] | None = None  # explicit: source column → Accord field
    contacts_mapping: dict[str, str] | None = None
    system: str | None = None  # the CRM whose ids an explicit ``external_id`` carries
    keep_unknown: bool = False  # unknown columns into custom_attributes
    default_owner: str | None = None  # username or e-mail


@dataclass(frozen=True)
class Upload:
    name: str
    stream: BinaryIO
    role: str = ACCOUNTS  # or CONTACTS


class WorkerStopped(BaseException):
    """The worker dies between rows (killed): the job keeps its lease and resumes from its
    last committed chunk once the lease runs out. A graceful stop cancels the run instead,
    and the job's lease is released at once."""


def principal_data(principal: Principal) -> dict[str, Any]:
    return {"id": str(principal.id), "kind": principal.kind, "name": principal.name,
            "department_id": None if principal.department_id is None
            else str(principal.department_id),
            "roles": sorted(principal.roles), "scopes": sorted(principal.scopes)}


def principal_of(data: dict[str, Any]) -> Principal:
    return Principal(id=UUID(data["id"]), kind=PrincipalKind(data["kind"]), name=data["name"],
                     department_id=None if data["department_id"] is None
                     else UUID(data["department_id"]),
                     roles=frozenset(Role(r) for r in data["roles"]),
                     scopes=frozenset(Scope(s) for s in data["scopes"]))


def _parties(ctx: RequestContext, job: BulkJob) -> frozenset[Party]:
    principal = ctx.actor
    parties = {Party.SUBMITTER} if principal.id == job.created_by else set()
    if Role.ADMIN in principal.roles:
        parties.add(Party.ADMIN)
    return frozenset(parties)


@dataclass
class _Run:
    """One worker's pass over a job, a chunk at a time: the keys of the chunk's rows that
    an accepted row holds (a second row for the same customer is a duplicate within the
    file; earlier chunks' keys are read from the store, ``import_keys``), the keys the
    chunk's own accepted rows add, and the policies its new customers are created under."""

    job: BulkJob
    ctx: RequestContext
    lease_owner: str
    preset: Preset | None
    seen: dict[str, tuple[str, int]] = field(default_factory=dict)
    fresh: list[tuple[str, str, int]] = field(default_factory=list)
    owners: dict[str, UUID | None] = field(default_factory=dict)
    # the chunk's rows as read, with their keys
    read: dict[tuple[str, str, int], tuple[RowData, dict[str, str]]] = \
        field(default_factory=dict)
    rules: ImportRules | None = None


class BulkJobs:
    """What imports and exports share: reading, cancelling and claiming jobs."""

    kind: JobKind

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, files: JobFiles, *,
                 lease: timedelta = timedelta(minutes=5)) -> None:
        self._uow = uow
        self._clock = clock
        self._files = files
        self._lease = lease

    async def get(self, ctx: RequestContext, job_id: UUID) -> BulkJob:
        """The submitter's job (an administrator sees every job); anyone else: 404."""
        async with self._uow(ctx, write=False) as uow:
            return await self._visible(uow, ctx, job_id)

    async def _visible(self, uow: UnitOfWork, ctx: RequestContext, job_id: UUID, *,
                       for_update: bool = False) -> BulkJob:
        job = await uow.bulk_jobs.get(job_id, for_update=for_update)
        if job is None or job.kind is not self.kind or not _parties(ctx, job):
            raise NotFound(entity=f"{self.kind}_job")
        return job

    async def cancel(self, ctx: RequestContext, job_id: UUID) -> BulkJob:
        """Stops the job at its next chunk; what was committed stays."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            job = await self._visible(uow, ctx, job_id, for_update=True)
            cancelled = apply(job, "cancel", _parties(ctx, job), now)
            await uow.bulk_jobs.save(cancelled)
            await uow.commit()
            return cancelled

    async def acting_as(self, login: str) -> RequestContext:
        """The context of an active user (username or e-mail), for a job submitted from
        the command line on their behalf."""
        async with self._uow(RequestContext(None, "cli"), write=False) as uow:
            user_id = await uow.bulk_jobs.user_by_login(login)
            user = None if user_id is None else await uow.users.get(user_id)
        if user is None:
            raise NotFound(entity="user")
        return RequestContext(user_principal(user), "cli")

    async def _claim(self, worker_ctx: RequestContext,
                     only: UUID | None = None) -> tuple[BulkJob, str] | None:
        now = self._clock.now()
        owner = uuid.uuid4().hex
        async with self._uow(worker_ctx) as uow:
            job = await uow.bulk_jobs.next_claimable(self.kind, now, only)
            if job is None:
                return None
            claimed = apply(job, "claim", frozenset({Party.WORKER}), now,
                            lease_until=now + self._lease, lease_owner=owner)
            await uow.bulk_jobs.save(claimed)
            await uow.commit()
            return claimed, owner

    async def _run_all(self, limit: int | None, only: UUID | None,
                       run: Callable[[BulkJob, str], Awaitable[None]]) -> int:
        """Claim and run jobs until none is left or ``limit`` ran; the number run. A job
        whose run raises fails, visibly; a worker stopped mid-job (``WorkerStopped``)
        leaves it to be resumed."""
        done = 0
        while limit is None or done < limit:
            claimed = await self._claim(RequestContext(None, "worker"), only)
            if claimed is None:
                return done
            job, owner = claimed
            try:
                await run(job, owner)
            except Exception as exc:  # a bug or a broken file
                await self._fail(job.id, owner, f"{type(exc).__name__}: {exc}")
            except asyncio.CancelledError:  # a graceful stop: the chunk rolled back
                await asyncio.shield(self._release(job.id, owner))
                raise
            done += 1
        return done

    async def _held(self, uow: UnitOfWork, job_id: UUID, owner: str) -> BulkJob | None:
        """The job, locked, while this run still holds it (not cancelled, lease ours)."""
        job = await uow.bulk_jobs.get(job_id, for_update=True)
        if job is None or job.state is not JobState.RUNNING or job.lease_owner != owner:
            return None
        return job

    async def _release(self, job_id: UUID, owner: str) -> None:
        """Give the job back at once, so the next worker (or this one, restarted) goes on
        from the last committed chunk without waiting for the lease to run out."""
        now = self._clock.now()
        async with self._uow(RequestContext(None, f"{self.kind}:{job_id}")) as uow:
            job = await self._held(uow, job_id, owner)
            if job is not None:
                await uow.bulk_jobs.save(apply(job, "release", frozenset({Party.WORKER}), now))
                await uow.commit()

    async def _fail(self, job_id: UUID, owner: str, reason: str) -> None:
        now = self._clock.now()
        async with self._uow(RequestContext(None, f"{self.kind}:{job_id}")) as uow:
            job = await self._held(uow, job_id, owner)
            if job is not None:
                await uow.bulk_jobs.save(apply(job, "fail", frozenset({Party.WORKER}), now,
                                               error=reason[:500]))
                await uow.commit()


class ImportService(BulkJobs):
    kind = JobKind.IMPORT

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, files: JobFiles,
                 customers: CustomerService, *, chunk_size: int = 500,
                 lease: timedelta = timedelta(minutes=5), batched: bool = True,
                 fast: bool = True, analyze_after: int = 50_000) -> None:
        super().__init__(uow, clock, files, lease=lease)
        self._customers = customers
        self.chunk_size = chunk_size
        # False: every look-up and write a round trip of its own (the rule oracle the
        # batched chunks are tested against, import_batch.py).
        self.batched = batched
        # True: a new customer is created by ``CustomerService.import_new`` as plain rows
        # written a table at a time; False: by ``create_in`` as one aggregate each (the
        # rule oracle the fast rows are tested against).
        self.fast = fast
        # a job that created or updated this many customers refreshes the planner's
        # statistics of the customer tables when it completes
        self.analyze_after = analyze_after

    # submitting ------------------------------------------------------------------------

    async def submit(self, ctx: RequestContext, uploads: list[Upload],
                     options: ImportOptions) -> BulkJob:
        principal = ctx.actor
        self._check_options(options, uploads)
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            if options.default_owner is not None and \
                    await uow.bulk_jobs.user_by_login(options.default_owner) is None:
                raise InvalidInput([FieldError("/default_owner", "owner_login_unknown",
                                               {"login": options.default_owner})])
            files = []
            for upload in uploads:
                stored = self._files.store(upload.name, upload.stream)
                files.append({"name": upload.name, "role": upload.role, "key": stored.key,
                              "sha256": stored.sha256, "size": stored.size})
            job = BulkJob(id=new_id(), kind=JobKind.IMPORT, state=JobState.QUEUED,
                          created_by=principal.id, principal=principal_data(principal),
                          options={**asdict(options), "mode": options.mode.value},
                          created_at=now, files=files,
                          counts=dict.fromkeys(IMPORT_COUNTS, 0))
            await uow.bulk_jobs.add(job)
            await uow.commit()
            return job

    @staticmethod
    def _check_options(options: ImportOptions, uploads: list[Upload]) -> None:
        errors: list[FieldError] = []
        if options.preset is None and options.mapping is None:
            errors.append(FieldError("/mapping", "preset_or_mapping"))
        if options.preset is not None and options.preset not in PRESETS:
            errors.append(FieldError("/preset", "preset_unknown",
                                     {"values": ", ".join(sorted(PRESETS))}))
        for pointer, mapping in (("/mapping", options.mapping),
                                 ("/contacts_mapping", options.contacts_mapping)):
            if mapping and (unknown := check_mapping(mapping)):
                errors.append(FieldError(pointer, "mapping_target_unknown",
                                         {"values": ", ".join(unknown)}))
        roles = [u.role for u in uploads]
        if roles.count(ACCOUNTS) > 1 or roles.count(CONTACTS) > 1 or not roles:
            errors.append(FieldError("/file", "one_file_per_role"))
        if errors:
            raise InvalidInput(errors)

    async def problems(self, ctx: RequestContext, job_id: UUID) -> AsyncIterator[RowProblem]:
        """Every rejected row of the job, in file and line order, read as a stream."""
        await self.get(ctx, job_id)
        async for problem in self._problems(ctx, job_id):
            yield problem

    async def _problems(self, ctx: RequestContext, job_id: UUID) -> AsyncIterator[RowProblem]:
        after = 0
        while True:
            async with self._uow(ctx, write=False) as uow:
                page = await uow.bulk_jobs.problems(job_id, after, 1000)
            for _, problem in page:
                yield problem
            if len(page) < 1000:
                return
            after = page[-1][0]

    # running ---------------------------------------------------------------------------

    async def run_queued(self, *, limit: int | None = None, only: UUID | None = None,
                         progress: Callable[[BulkJob], None] | None = None) -> int:
        """Run queued imports (and ones whose worker died) until none is left or ``limit``
        ran; the number run. The worker's task; ``only`` runs one job (the command
        line's), ``progress`` hears of each committed chunk."""
        return await self._run_all(limit, only, lambda job, owner: self._run(job, owner,
                                                                             progress))

    async def _run(self, job: BulkJob, owner: str,
                   progress: Callable[[BulkJob], None] | None = None) -> None:
        options = job.options
        run = _Run(job, RequestContext(principal_of(job.principal), f"import:{job.id}"),
                   owner, PRESETS.get(options["preset"] or ""))
        rows = self._rows(run)
        if job.position:
            await self._rebuild_keys(run, rows)
        while True:
            chunk = [r for _, r in zip(range(self.chunk_size), rows, strict=False)]
            if not await self._chunk(run, chunk):
                return
            if progress is not None:
                progress(run.job)
            if not chunk:
                return

    async def _rebuild_keys(self, run: _Run,
                            rows: Iterator[tuple[str, str, int, dict[str, str]]]) -> None:
        """A resumed job's memory of the rows before its position, from the file: the keys
        of every row it accepted (a row it rejected has a problem on record)."""
        rejected_lines = {(p.file, p.line) async for p in self._problems(run.ctx, run.job.id)}
        async with self._uow(run.ctx) as uow:
            await uow.import_keys.forget(run.job.id)
            for index in range(run.job.position):
                role, name, line, cells = next(rows)
                if (name, line) not in rejected_lines:
                    data = self._read(run, role, name, line, cells)
                    self._remember(run, data, self._keys(run, data, role))
                if len(run.fresh) >= 10_000 or index == run.job.position - 1:
                    await uow.import_keys.remember(run.job.id, run.fresh)
                    run.seen, run.fresh = {}, []
            await uow.commit()

    def _rows(self, run: _Run) -> Iterator[tuple[str, str, int, dict[str, str]]]:
        for role in (ACCOUNTS, CONTACTS):
            for f in run.job.files:
                if f["role"] == role:
                    for line, cells in self._files.rows(f["key"], f["name"]):
                        yield role, f["name"], line, cells

    async def _chunk(self, run: _Run, chunk: list[tuple[str, str, int, dict[str, str]]]
                     ) -> bool:
        """One chunk's rows, committed with the job's position and counts (in a dry run
        the rows' writes are rolled back and only the job's progress is kept). False when
        the job is no longer this run's (cancelled, or taken over)."""
        now = self._clock.now()
        dry_run = bool(run.job.options["dry_run"])
        counts = dict(run.job.counts)
        problems: list[RowProblem] = []
        run.fresh = []
        async with self._uow(run.ctx) as uow:
            job = await self._held(uow, run.job.id, run.lease_owner)
            if job is None:
                return False
            await self._recall(uow, run, chunk)
            run.rules = await self._customers.import_rules(uow) if self.fast else None
            work: Any = await self._batch(uow, run, chunk) if self.batched else uow
            for role, name, line, cells in chunk:
                outcome, found = await self._row(work, run, role, name, line, cells, now)
                counts["read"] += 1
                counts[outcome] += 1
                counts["valid"] += outcome != "rejected"
                problems += found
            run.read.clear()
            if not dry_run:
                return await self._advance(work, run, job, chunk, counts, problems, now)
        async with self._uow(run.ctx) as uow:  # a dry run keeps only its findings
            job = await self._held(uow, run.job.id, run.lease_owner)
            if job is None:
                return False
            return await self._advance(uow, run, job, chunk, counts, problems, now)

    async def _recall(self, uow: UnitOfWork, run: _Run,
                      chunk: list[tuple[str, str, int, dict[str, str]]]) -> None:
        """``run.seen``: which of the chunk's keys an earlier chunk's row holds."""
        keys: set[str] = set()
        for role, name, line, cells in chunk:
            row = self._read(run, role, name, line, cells)
            keyed = {} if row.problems else self._keys(run, row, role)
            run.read[(role, name, line)] = row, keyed
            keys.update(keyed)
        run.seen = await uow.import_keys.seen(run.job.id, sorted(keys))

    async def _batch(self, uow: UnitOfWork, run: _Run,
                     chunk: list[tuple[str, str, int, dict[str, str]]]) -> BatchedUnitOfWork:
        """The chunk's unit of work with its duplicate look-ups read at once: the keys of
        its accounts rows (as ``_keys`` finds them) and the phones and e-mails of their
        ``contacts`` cells in three set-based reads."""
        refs: set[tuple[str, str]] = set()
        codes: set[str] = set()
        points: set[tuple[str, str]] = set()
        for role, name, line, _cells in chunk:
            row, keyed = run.read[(role, name, line)]
            if row.problems:
                continue
            for kind, value in self._json_points(row.values.get("contacts")):
                with contextlib.suppress(InvalidInput):
                    points.add((kind, validation.phone(value, "") if kind == "phone"
                                else value.lower()))
            for key in keyed:
                kind, _, value = key.partition(":")
                if kind == "ref":
                    system, _, ref = value.partition(":")
                    refs.add((system, ref))
                elif kind == "code":
                    codes.add(value)
                elif kind in ("phone", "email"):
                    points.add((kind, value))
        holders = await uow.customers.holders_of_many(sorted(refs), sorted(codes),
                                                      sorted(points))
        return BatchedUnitOfWork(uow, BatchedCustomers(uow.customers, holders, refs, codes,
                                                       points))

    async def _advance(self, uow: UnitOfWork, run: _Run, job: BulkJob, chunk: list[Any],
                       counts: dict[str, int], problems: list[RowProblem],
                       now: datetime) -> bool:
        await uow.bulk_jobs.add_problems(job.id, problems)
        await uow.import_keys.remember(job.id, run.fresh)
        job = replace(job, position=job.position + len(chunk), counts=counts,
                      lease_until=now + self._lease, version=job.version + 1)
        if not chunk:
            job = apply(job, "complete", frozenset({Party.WORKER}), now)
            await uow.import_keys.forget(job.id)
            uow.record_change(
                "import.completed", "import", job.id,
                after={"counts": counts, "files": [{"name": f["name"], "sha256": f["sha256"]}
                                                   for f in job.files],
                       "mode": job.options["mode"], "dry_run": job.options["dry_run"]},
                event={"counts": counts, "mode": job.options["mode"],
                       "dry_run": job.options["dry_run"],
                       "files": [{"name": f["name"], "sha256": f["sha256"]}
                                 for f in job.files]}, at=now)
        await uow.bulk_jobs.save(job)
        await uow.commit()
        run.job = job
        if not chunk and not job.options["dry_run"] and \
                counts["created"] + counts["updated"] >= self.analyze_after:
            async with self._uow(run.ctx) as analyzing:
                await analyzing.import_keys.analyze()
        return True

    # one row ---------------------------------------------------------------------------

    def _read(self, run: _Run, role: str, name: str, line: int,
              cells: dict[str, str]) -> RowData:
        options = run.job.options
        preset = run.preset
        if role == ACCOUNTS:
            mapping = options["mapping"] or (preset.accounts if preset else {})
        else:
            mapping = options["contacts_mapping"] or (preset.contacts if preset else {})
        return read_row(name, line, cells, mapping,
                        id_prefix=preset.id_prefix if preset else "")

    def _system(self, run: _Run) -> str | None:
        return run.job.options["system"] or (run.preset.system if run.preset else None)

    def _keys(self, run: _Run, row: RowData, role: str) -> dict[str, str]:
        """What identifies the row's customer and contact points within the file, each
        with the target that holds it."""
        if role != ACCOUNTS:
            return {}
        keys: dict[str, str] = {}
        values = row.values
        system = self._system(run)
        if "id" in values:
            keys[f"id:{values['id']}"] = "id"
        if "external_id" in values and system:
            keys[f"ref:{system}:{values['external_id']}"] = "external_id"
        for ref_system, ref in (values.get("external_refs") or {}).items():
            keys[f"ref:{ref_system}:{ref}"] = "external_refs"
        try:
            if values.get("credit_code"):
                keys[f"code:{validation.credit_code(values['credit_code'])}"] = "credit_code"
        except InvalidInput:
            pass
        for i, number in enumerate(values.get("contact_phone", [])):
            with contextlib.suppress(InvalidInput):
                keys[f"phone:{validation.phone(number, '')}"] = f"contact_phone#{i}"
        for i, address in enumerate(values.get("contact_email", [])):
            keys[f"email:{address.lower()}"] = f"contact_email#{i}"
        return keys

    @staticmethod
    def _json_points(contacts: Any) -> Iterator[tuple[str, str]]:
        """The phones and e-mails of a ``contacts`` cell (Accord's own export), as far as
        it has the shape the create reads; the create explains any other shape."""
        for contact in contacts if isinstance(contacts, list) else []:
            if isinstance(contact, dict):
                for kind, items, name in (("phone", contact.get("phones"), "number"),
                                          ("email", contact.get("emails"), "address")):
                    for item in items if isinstance(items, list) else []:
                        if isinstance(item, dict) and isinstance(item.get(name), str):
                            yield kind, item[name]

    @staticmethod
    def _remember(run: _Run, row: RowData, keys: dict[str, str]) -> None:
        for key in keys:
            if key not in run.seen:
                run.seen[key] = (row.file, row.line)
                run.fresh.append((key, row.file, row.line))

    async def _row(self, uow: UnitOfWork, run: _Run, role: str, name: str, line: int,
                   cells: dict[str, str], now: datetime) -> tuple[str, list[RowProblem]]:
        known = run.read.pop((role, name, line), None)
        row = known[0] if known else self._read(run, role, name, line, cells)
        if row.problems:
            return "rejected", row.problems
        keys = known[1] if known else self._keys(run, row, role)
        for key, target in keys.items():
            if key in run.seen:
                target, _, index = target.partition("#")
                first = run.seen[key]
                row.reject(target, "duplicate_in_file", int(index or 0), line=first[1])
                return "rejected", row.problems
        try:
            if role == ACCOUNTS:
                outcome = await self._account(uow, run, row, now)
            else:
                outcome = await self._contact(uow, run, row, now)
        except DomainError as error:
            self._explain(row, error)
            return "rejected", row.problems
        if outcome != "rejected":
            self._remember(run, row, keys)
        return outcome, row.problems

    async def _owner(self, uow: UnitOfWork, run: _Run, row: RowData) -> UUID | None:
        login = row.values.get("owner") or run.job.options["default_owner"]
        if login is None:
            return None
        if login not in run.owners:
            run.owners[login] = await uow.bulk_jobs.user_by_login(login)
        owner = run.owners[login]
        if owner is None:
            raise InvalidInput([FieldError("/owner_id", "owner_login_unknown", {"login": login})])
        return owner

    async def _existing(self, uow: UnitOfWork, run: _Run,
                        row: RowData) -> tuple[UUID, str] | None:
        """The customer the row names, and the target that named it: its Accord id, an
        external reference, else its credit code."""
        values = row.values
        if "id" in values:
            try:
                return UUID(values["id"]), "id"
            except ValueError:
                raise InvalidInput([FieldError("/id", "id_invalid")]) from None
        system = self._system(run)
        refs = dict(values.get("external_refs") or {})
        if "external_id" in values and system:
            refs[system] = values["external_id"]
        for ref_system, ref in sorted(refs.items()):
            holder = await uow.customers.external_ref_holder(ref_system, ref)
            if holder is not None:
                return holder, "external_id" if ref == values.get("external_id") \
                    else "external_refs"
        if values.get("credit_code"):
            try:
                code = validation.credit_code(values["credit_code"])
            except InvalidInput:
                return None  # the create explains it
            hit = await uow.customers.credit_code_holder(code, None)
            if hit is not None:
                return hit.customer_id, "credit_code"
        return None

    def _fields(self, run: _Run, row: RowData, current_refs: dict[str, str]) -> CustomerInput:
        values = row.values
        sent = {k for k in values if k in CUSTOMER_TARGETS and k not in _NOT_FIELDS}
        fields: dict[str, Any] = {k: values[k] for k in sent}
        if "kind" in fields:
            fields["kind"] = CustomerKind(fields["kind"])
        if "preferred_channel" in fields:
            fields["preferred_channel"] = ContactChannel(fields["preferred_channel"])
        system = self._system(run)
        if "external_id" in values and system:
            fields["external_refs"] = {**current_refs, **fields.get("external_refs", {}),
                                       system: values["external_id"]}
            sent.add("external_refs")
        if run.job.options["keep_unknown"] and row.unknown:
            fields["custom_attributes"] = {**fields.get("custom_attributes", {}),
                                           **row.unknown}
            sent.add("custom_attributes")
        return CustomerInput(**fields, fields_set=frozenset(sent))

    @staticmethod
    def _contacts(row: RowData) -> list[ContactInput]:
        values = row.values
        if "contacts" in values:
            return [ContactInput(
                name=c.get("name", ""), title=c.get("title", ""),
                phones=[Phone(p["number"], p.get("verified", False))
                        for p in c.get("phones", [])],
                emails=[Email(e["address"], e.get("verified", False))
                        for e in c.get("emails", [])],
                im_handle=c.get("im_handle", ""),
                preferred_channel=c.get("preferred_channel") and
                ContactChannel(c["preferred_channel"]),
                is_primary=bool(c.get("is_primary"))) for c in values["contacts"]]
        if not any(t in values for t in CONTACT_TARGETS):
            return []
        if not values.get("contact_name"):
            raise InvalidInput([FieldError("/contacts/0/name", "contact_name_missing")])
        return [ContactInput(name=values["contact_name"], title=values.get("contact_title", ""),
                             phones=[Phone(n) for n in values.get("contact_phone", [])],
                             emails=[Email(a) for a in values.get("contact_email", [])],
                             im_handle=values.get("contact_im", ""), is_primary=True)]

    async def _account(self, uow: UnitOfWork, run: _Run, row: RowData, now: datetime) -> str:
        mode = ImportMode(run.job.options["mode"])
        source = Source("import", run.job.id)
        try:
            found = await self._existing(uow, run, row)
            contacts = self._contacts(row)
        except (ValueError, KeyError, TypeError):
            raise InvalidInput([FieldError("/contacts", "json_invalid")]) from None
        if found is None:
            if mode is ImportMode.UPDATE:
                raise NotFound(entity="customer")
            if not row.values.get("name"):
                raise InvalidInput([FieldError("/name", "missing")])
            new = NewCustomer(fields=self._fields(run, row, {}), contacts=contacts,
                              owner_id=await self._owner(uow, run, row))
            if run.rules is None or not await self._customers.import_new(
                    uow, run.ctx, new, now, source, run.rules):
                await self._customers.create_in(uow, run.ctx, new, now, source=source)
            return "created"
        existing, matched_by = found
        if mode is ImportMode.CREATE:
            raise CustomerExists(customer_id=str(existing), matched_by=matched_by)
        current = await uow.customers.get(existing, write_scope(run.ctx.actor), for_update=True)
        if current is None:
            raise NotFound(entity="customer")
        changed = await self._customers.update_in(
            uow, run.ctx, current, self._fields(run, row, current.external_refs), contacts,
            now, source=source)
        return "unchanged" if changed is None else "updated"

    async def _contact(self, uow: UnitOfWork, run: _Run, row: RowData, now: datetime) -> str:
        values = row.values
        scope = write_scope(run.ctx.actor)
        customer_id = None
        system = self._system(run)
        if values.get("account_external_id") and system:
            customer_id = await uow.customers.external_ref_holder(
                system, values["account_external_id"])
        elif values.get("account_name"):
            customer_id = await uow.bulk_jobs.customer_by_name(values["account_name"], scope)
        current = None if customer_id is None else \
            await uow.customers.get(customer_id, scope, for_update=True)
        if current is None:
            row.reject("account_external_id" if "account_external_id" in values
                       else "account_name", "account_not_found")
            return "rejected"
        changed = await self._customers.update_in(
            uow, run.ctx, current, CustomerInput(), self._contacts(row), now,
            source=Source("import", run.job.id))
        return "unchanged" if changed is None else "updated"

    @staticmethod
    def _explain(row: RowData, error: DomainError) -> None:
        """A refusal of the customer use cases as problems on the row's columns."""
        contacts_in_row = row.has_contact()
        if isinstance(error, InvalidInput) and error.field_errors:
            for e in error.field_errors:
                row.problems.append(RowProblem(
                    row.file, row.line, column_of_pointer(row, e.pointer, contacts_in_row),
                    e.reason, e.params or {}))
            return
        column = ""
        if isinstance(error, DuplicateCustomer):
            kind = error.params.get("field")
            column = {"credit_code": row.column("credit_code"),
                      "phone": row.column("contact_phone"),
                      "email": row.column("contact_email")}.get(str(kind), "")
        elif isinstance(error, ExternalRefTaken):
            column = row.column("external_id") or row.column("id") or row.column("credit_code")
        elif isinstance(error, OwnerNotAllowed):
            column = row.column("owner")
        elif isinstance(error, CustomerExists):
            column = row.column(str(error.params["matched_by"]))
        elif isinstance(error, NotFound):
            column = row.column("external_id") or row.column("id") or row.column("credit_code")
        row.problems.append(RowProblem(row.file, row.line, column, error.code,
                                       {k: str(v) for k, v in error.params.items()}))
