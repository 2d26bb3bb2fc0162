"""客户档案 use cases: create, change, classify, move through stages, check integrity,
keep history, find duplicates, merge, erase a contact's personal data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.access.roles import Role
from app.domain.access.scope import Reach, RecordScope, read_scope, write_scope
from app.domain.common.errors import (
    FieldError,
    FieldErrors,
    InvalidInput,
    InvalidState,
    NotFound,
    VersionRequired,
)
from app.domain.common.ids import new_id
from app.domain.common.paging import Page, PageRequest
from app.domain.common.partial import filled_in, taking
from app.domain.common.versions import AnyOf, check_version
from app.domain.customers import validation
from app.domain.customers.classification import TierPolicy, tier_for, value_score
from app.domain.customers.errors import DuplicateCustomer, ExternalRefTaken, OwnerNotAllowed
from app.domain.customers.history import FieldChange, changes
from app.domain.customers.integrity import IntegrityPolicy, IntegrityReport, evaluate
from app.domain.customers.lifecycle import allowed_targets, transition
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
from app.domain.customers.needs import NeedsVocabulary
from app.services.policies import (
    BUSINESS_CALENDAR,
    INTEGRITY_POLICY,
    NEEDS_VOCABULARY,
    TIER_POLICY,
    load_policy,
    store_policy,
)
from app.services.ports import Clock, RequestContext
from app.services.ports.customers import (
    CustomerFilter,
    DuplicateHit,
    HistoryEntry,
    ImportedRows,
    TimelineEntry,
)
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

ERASED = "[已删除 erased]"
# snapshot entries that are not columns of the customer row (or are stored another way)
_NOT_COLUMNS = frozenset({"owner_id", "department_id", "annual_revenue", "value_score",
                          "archived"})


@dataclass(frozen=True)
class ContactInput:
    name: str
    title: str = ""
    phones: list[Phone] = field(default_factory=list)  # raw numbers, normalised on entry
    emails: list[Email] = field(default_factory=list)
    im_handle: str = ""
    preferred_channel: ContactChannel | None = None
    is_primary: bool = False


@dataclass(frozen=True)
class CustomerInput:
    """Every field a person may set. On update, only the names in ``fields_set`` change."""

    name: str = ""
    kind: CustomerKind = CustomerKind.COMPANY
    credit_code: str | None = None
    industry: str = ""
    region: str = ""
    address: str = ""
    shared_with_department: bool = False
    tags: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    preferred_channel: ContactChannel | None = None
    preferred_time: str = ""
    custom_attributes: dict[str, Any] = field(default_factory=dict)
    external_refs: dict[str, str] = field(default_factory=dict)
    annual_revenue: Decimal | None = None
    currency: str = "CNY"
    strategic_importance: int | None = None
    growth_potential: int | None = None
    fields_set: frozenset[str] = frozenset()


@dataclass(frozen=True)
class NewCustomer:
    fields: CustomerInput
    contacts: list[ContactInput]
    owner_id: UUID | None = None
    stage: Stage = Stage.PROSPECT
    force_reason: str | None = None  # create despite duplicates, saying why


@dataclass(frozen=True)
class CustomerView:
    """A customer as the caller sees it. ``allowed_stages`` are the stages the caller may
    move it to now: none when the caller may read but not write it."""

    customer: Customer
    allowed_stages: list[Stage]


def _view(ctx: RequestContext, customer: Customer) -> CustomerView:
    """Writability is decided once, here, by the scope every write use case loads with."""
    writable = write_scope(ctx.actor).covers(
        owner_id=customer.owner_id, department_id=customer.department_id,
        shared_with_department=customer.shared_with_department)
    return CustomerView(customer, allowed_targets(customer.stage) if writable else [])


def _actor(ctx: RequestContext) -> str | None:
    return str(ctx.principal.id) if ctx.principal else None


@dataclass(frozen=True)
class Source:
    """Where a change came from when it is not a request of its own: an import job."""

    kind: str  # "import"
    id: UUID

    @property
    def reference(self) -> str:
        return f"{self.kind}:{self.id}"


def _origin(ctx: RequestContext, action: str,
            source: Source | None) -> tuple[str, str | None, str | None]:
    """History's action, actor and request for a change: an imported customer's history
    says ``customer.imported`` and names the job where a request id would stand."""
    if source is None:
        return action, _actor(ctx), ctx.request_id
    return action.replace("created", "imported").replace("updated", "imported"), \
        _actor(ctx), source.reference


def _contact_view(contact: Contact) -> dict[str, Any]:
    """What the audit log keeps of a contact: no personal data, so erasure never has to
    touch the append-only log."""
    return {"contact_id": str(contact.id), "is_primary": contact.is_primary,
            "phones": len(contact.phones), "emails": len(contact.emails),
            "erased": contact.erased_at is not None}


@dataclass
class ImportRules:
    """The policies an import chunk's new customers are created under, and the integrity
    percent of each shape of new customer met so far: what the policy's checks look at
    (tier, kind, which fields are filled, each contact's primary flag and reach). A file
    of a million customers has a handful of shapes, each evaluated once by the domain's
    own ``evaluate`` on a customer of that shape."""

    needs: NeedsVocabulary
    tiers: TierPolicy
    integrity: IntegrityPolicy
    known: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def integrity_percent(self, fields: CustomerInput, tier: Tier,
                          contacts: list[ContactInput]) -> int:
        shape = (tier, fields.kind, bool(fields.credit_code), bool(fields.industry.strip()),
                 bool(fields.region.strip()), bool(fields.address.strip()),
                 fields.preferred_channel is not None,
                 tuple((c.is_primary, any(p.verified for p in c.phones)
                        or any(e.verified for e in c.emails), bool(c.phones or c.emails))
                       for c in contacts))
        if shape not in self.known:
            self.known[shape] = evaluate(_shaped(fields, tier, contacts), self.integrity).percent
        return self.known[shape]


def _shaped(fields: CustomerInput, tier: Tier, contacts: list[ContactInput]) -> Customer:
    """A customer with these fields and contacts, for the integrity rules to look at."""
    nobody, then = new_id(), datetime.min
    return Customer(
        id=nobody, name=fields.name, kind=fields.kind, credit_code=fields.credit_code,
        industry=fields.industry, region=fields.region, address=fields.address,
        owner_id=nobody, department_id=nobody,
        shared_with_department=fields.shared_with_department, tags=fields.tags,
        needs=fields.needs, preferred_channel=fields.preferred_channel,
        preferred_time=fields.preferred_time, custom_attributes=fields.custom_attributes,
        external_refs=fields.external_refs, annual_revenue=fields.annual_revenue,
        currency=fields.currency, strategic_importance=fields.strategic_importance,
        growth_potential=fields.growth_potential, value_score=Decimal(0), tier_computed=tier,
        tier_manual=None, tier_manual_reason=None, stage=Stage.PROSPECT, churn_reason=None,
        churn_note=None, integrity_score=0, version=1, created_at=then, updated_at=then,
        contacts=[CustomerService._new_contact(nobody, c, then) for c in contacts])


class CustomerService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    # reading -------------------------------------------------------------------------

    async def get(self, ctx: RequestContext, customer_id: UUID) -> CustomerView:
        async with self._uow(ctx, write=False) as uow:
            return _view(ctx, await self._readable(uow, ctx, customer_id))

    async def list(self, ctx: RequestContext, filters: CustomerFilter,
                   page: PageRequest) -> Page[Customer]:
        assert ctx.principal is not None
        async with self._uow(ctx, write=False) as uow:
            if filters.contact_overdue:
                calendar, _ = await load_policy(uow, BUSINESS_CALENDAR)
                filters = replace(filters,
                                  contact_due_before=calendar.local_date(self._clock.now()))
            return await uow.customers.list(read_scope(ctx.principal), filters, page)

    async def integrity(self, ctx: RequestContext, customer_id: UUID) -> IntegrityReport:
        async with self._uow(ctx, write=False) as uow:
            customer = await self._readable(uow, ctx, customer_id)
            policy, _ = await load_policy(uow, INTEGRITY_POLICY)
        return evaluate(customer, policy)

    async def history(self, ctx: RequestContext, customer_id: UUID,
                      page: PageRequest) -> Page[HistoryEntry]:
        async with self._uow(ctx, write=False) as uow:
            await self._readable(uow, ctx, customer_id)
            return await uow.customers.history(customer_id, page)

    async def timeline(self, ctx: RequestContext, customer_id: UUID,
                       page: PageRequest) -> Page[TimelineEntry]:
        async with self._uow(ctx, write=False) as uow:
            await self._readable(uow, ctx, customer_id)
            return await uow.customers.timeline(customer_id, page)

    # creating ------------------------------------------------------------------------

    async def create(self, ctx: RequestContext, new: NewCustomer) -> CustomerView:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            customer = await self.create_in(uow, ctx, new, now)
            await uow.commit()
            return _view(ctx, customer)

    async def create_many(self, ctx: RequestContext,
                          news: Sequence[NewCustomer]) -> list[CustomerView]:
        """Several creates, each by the rules of ``create`` (duplicates within the batch
        too), audited one by one, in one transaction: all are created or none. Loading
        many customers (demo data) then commits once, not once a customer. Each is
        stamped when its turn comes, so they list by creation in the order given."""
        async with self._uow(ctx) as uow:
            created = [await self.create_in(uow, ctx, new, self._clock.now()) for new in news]
            await uow.commit()
            return [_view(ctx, customer) for customer in created]

    async def create_in(self, uow: UnitOfWork, ctx: RequestContext, new: NewCustomer,
                        now: datetime, *, source: Source | None = None) -> Customer:
        """A single create's rules inside the caller's transaction. With a ``source`` (an
        import job) the history names the job and no per-customer audit entry or event is
        written: the job records one for all its rows."""
        assert ctx.principal is not None
        if new.stage is Stage.CHURNED:
            raise InvalidInput([FieldError("/stage", "stage_not_initial")])
        owner_id, department_id = await self._owner(uow, ctx.principal, new.owner_id)
        vocabulary, _ = await load_policy(uow, NEEDS_VOCABULARY)
        fields, contacts = self._cleaned(new, vocabulary.check)
        customer_id = new_id()
        customer = Customer(
            id=customer_id, name=fields.name, kind=fields.kind,
            credit_code=fields.credit_code, industry=fields.industry, region=fields.region,
            address=fields.address, owner_id=owner_id, department_id=department_id,
            shared_with_department=fields.shared_with_department, tags=fields.tags,
            needs=fields.needs, preferred_channel=fields.preferred_channel,
            preferred_time=fields.preferred_time, custom_attributes=fields.custom_attributes,
            external_refs=fields.external_refs, annual_revenue=fields.annual_revenue,
            currency=fields.currency, strategic_importance=fields.strategic_importance,
            growth_potential=fields.growth_potential, value_score=Decimal(0),
            tier_computed=Tier.D, tier_manual=None, tier_manual_reason=None,
            stage=new.stage, churn_reason=None, churn_note=None, integrity_score=0,
            version=1, created_at=now, updated_at=now,
            contacts=[self._new_contact(customer_id, c, now) for c in contacts])
        if customer.contacts and not any(c.is_primary for c in customer.contacts):
            customer.contacts[0].is_primary = True  # the first contact is primary
        # the order every later read gives (primary first, then as the store sorts them)
        customer.contacts.sort(key=lambda c: (not c.is_primary, c.created_at, c.id))
        await self._check_duplicates(uow, customer, customer.contacts, new.force_reason,
                                     other_than=None, ctx=ctx)
        await self._classify(uow, customer)
        await uow.customers.add(customer)
        after = customer.snapshot()
        action, actor_id, request_id = _origin(ctx, "customer.created", source)
        await uow.customers.add_history(
            customer.id, changes(None, after), action=action,
            actor_id=actor_id, request_id=request_id, now=now)
        for contact in customer.contacts:
            await uow.customers.add_history(
                customer.id, changes(None, contact.snapshot()), action="contact.added",
                actor_id=actor_id, request_id=request_id, now=now,
                contact_id=contact.id)
        if new.force_reason:
            await uow.customers.add_history(
                customer.id, [FieldChange("forced_duplicate_reason", None,
                                          new.force_reason)],
                action=action, actor_id=actor_id,
                request_id=request_id, now=now)
        if source is None:
            uow.record_change(
                "customer.created", "customer", customer.id,
                after={**after, "contacts": [_contact_view(c) for c in customer.contacts],
                       "forced_duplicate_reason": new.force_reason},
                event={"name": customer.name, "tier": customer.tier}, at=now,
                customer_id=customer.id)
        return customer

    @staticmethod
    async def import_rules(uow: UnitOfWork) -> ImportRules:
        """The policies ``import_new`` applies, read once for a chunk of rows."""
        needs, _ = await load_policy(uow, NEEDS_VOCABULARY)
        tiers, _ = await load_policy(uow, TIER_POLICY)
        integrity, _ = await load_policy(uow, INTEGRITY_POLICY)
        return ImportRules(needs, tiers, integrity)

    def _cleaned(self, new: NewCustomer,
                 check_needs: Any) -> tuple[CustomerInput, list[ContactInput]]:
        """A new customer's fields and contacts cleaned as on entry, every refusal at once."""
        errors = FieldErrors()
        fields = self._clean_fields(new.fields, errors, check_needs)
        contacts = [self._clean_contact(c, f"/contacts/{i}", errors)
                    for i, c in enumerate(new.contacts)]
        if sum(c.is_primary for c in contacts) > 1:
            errors.add("/contacts", "one_primary_contact")
        errors.raise_if_any()
        return fields, contacts

    async def import_new(self, uow: UnitOfWork, ctx: RequestContext, new: NewCustomer,
                         now: datetime, source: Source, rules: ImportRules) -> bool:
        """``create_in`` for an import row, by the same rules in the same order, added as
        plain rows (no aggregate, no row per field; ``add_imported``): the customer, its
        tags, references, contacts and contact points, and a history of one entry for the
        customer and one per contact (each redactable on its own), naming the job. False,
        having written nothing, when the row holds a duplicate or asks for what only
        ``create_in`` does (a forced duplicate, another first stage): the caller runs
        ``create_in``, which refuses or creates it as a single create would."""
        assert ctx.principal is not None
        if new.stage is not Stage.PROSPECT or new.force_reason:
            return False
        owner_id, department_id = await self._owner(uow, ctx.principal, new.owner_id)
        fields, contacts = self._cleaned(new, rules.needs.check)
        for system, external in fields.external_refs.items():
            if await uow.customers.external_ref_holder(system, external) is not None:
                return False
        if fields.credit_code and \
                await uow.customers.credit_code_holder(fields.credit_code, None) is not None:
            return False
        points = sorted({("phone", p.number) for c in contacts for p in c.phones}
                        | {("email", e.address.lower()) for c in contacts for e in c.emails})
        if await uow.customers.contact_point_holders(points, None):
            return False
        into = ImportedRows()
        customer_id = new_id()
        people = [(new_id(), c) for c in contacts]
        if people and not any(c.is_primary for _, c in people):
            people[0] = (people[0][0], replace(people[0][1], is_primary=True))
        people.sort(key=lambda p: (not p[1].is_primary, p[0]))  # as create_in orders them
        score = value_score(fields.annual_revenue, fields.strategic_importance,
                            fields.growth_potential, rules.tiers)
        tier = tier_for(score, rules.tiers)
        snapshot = {
            "name": fields.name, "kind": fields.kind, "credit_code": fields.credit_code,
            "industry": fields.industry, "region": fields.region, "address": fields.address,
            "owner_id": str(owner_id), "department_id": str(department_id),
            "shared_with_department": fields.shared_with_department,
            "tags": list(fields.tags), "needs": list(fields.needs),
            "preferred_channel": fields.preferred_channel,
            "preferred_time": fields.preferred_time,
            "custom_attributes": dict(fields.custom_attributes),
            "external_refs": dict(fields.external_refs),
            "annual_revenue": None if fields.annual_revenue is None
            else str(fields.annual_revenue),
            "currency": fields.currency, "strategic_importance": fields.strategic_importance,
            "growth_potential": fields.growth_potential, "value_score": str(score),
            "tier_computed": tier, "tier_manual": None, "tier_manual_reason": None,
            "stage": new.stage, "churn_reason": None, "churn_note": None, "archived": False}
        into.customers.append({
            **{k: v for k, v in snapshot.items() if k not in _NOT_COLUMNS},
            "id": customer_id, "owner_id": owner_id, "department_id": department_id,
            "annual_revenue": fields.annual_revenue, "value_score": score, "tier": tier,
            "integrity_score": rules.integrity_percent(fields, tier, [c for _, c in people]),
            "search_text": "\n".join([fields.name, *(c.name for _, c in people)]).lower(),
            "archived_at": None, "merged_into": None, "version": 1, "created_at": now,
            "updated_at": now})
        into.tags += [{"customer_id": customer_id, "tag": t} for t in fields.tags]
        into.refs += [{"system": s, "external_id": i, "customer_id": customer_id}
                      for s, i in sorted(fields.external_refs.items())]
        actor_id = _actor(ctx)
        history = {"customer_id": customer_id, "occurred_at": now, "actor_id": actor_id,
                   "old": None, "request_id": source.reference, "redacted": False}
        into.history.append({**history, "contact_id": None, "action": "customer.imported",
                             "field": "customer", "new": snapshot})
        for contact_id, c in people:
            phones = [{"number": p.number, "verified": p.verified} for p in c.phones]
            emails = [{"address": e.address, "verified": e.verified} for e in c.emails]
            into.contacts.append({
                "id": contact_id, "customer_id": customer_id, "name": c.name, "title": c.title,
                "phones": phones, "emails": emails, "im_handle": c.im_handle,
                "preferred_channel": c.preferred_channel, "is_primary": c.is_primary,
                "version": 1, "created_at": now, "updated_at": now, "erased_at": None})
            into.points += [{"kind": kind, "value": value, "customer_id": customer_id,
                             "contact_id": contact_id}
                            for kind, value in [*(("phone", p.number) for p in c.phones),
                                                *(("email", e.address.lower())
                                                  for e in c.emails)]]
            into.history.append({**history, "contact_id": contact_id,
                                 "action": "contact.added", "field": "contact",
                                 "new": {"name": c.name, "title": c.title, "phones": phones,
                                         "emails": emails, "im_handle": c.im_handle,
                                         "preferred_channel": c.preferred_channel,
                                         "is_primary": c.is_primary}})
        await uow.customers.add_imported(into)
        return True

    async def put_by_external_ref(self, ctx: RequestContext, system: str, external_id: str,
                                  expected_version: int | AnyOf | None,
                                  new: NewCustomer) -> tuple[CustomerView, bool]:
        """Live sync from a CRM: the customer this CRM id points to is created, or updated
        by the fields sent (If-Match required), or left alone when nothing differs. True
        when it was created."""
        refs = new.fields.external_refs
        if refs.get(system, external_id) != external_id:
            raise InvalidInput([FieldError(f"/external_refs/{system}", "external_ref_mismatch")])
        fields = replace(new.fields, external_refs={**refs, system: external_id},
                         fields_set=new.fields.fields_set | {"external_refs"})
        new = replace(new, fields=fields)
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            holder = await uow.customers.external_ref_holder(system, external_id)
            if holder is None:
                customer = await self.create_in(uow, ctx, new, now)
                await uow.commit()
                return _view(ctx, customer), True
            assert ctx.principal is not None
            current = await uow.customers.get(holder, write_scope(ctx.principal),
                                               for_update=True)
            if current is None:
                raise ExternalRefTaken(system=system, external_id=external_id,
                                       holder=await self._holder(uow, ctx, holder))
            if expected_version is None:
                raise VersionRequired()
            check_version(current.version, expected_version)
            if new.owner_id is not None and new.owner_id != current.owner_id:
                raise InvalidInput([FieldError("/owner_id", "owner_moves_by_handover")])
            changed = await self.update_in(uow, ctx, current, fields, new.contacts, now,
                                           force_reason=new.force_reason)
            await uow.commit()
            return _view(ctx, changed or current), False

    async def update_in(self, uow: UnitOfWork, ctx: RequestContext, current: Customer,
                        patch: CustomerInput, contacts: list[ContactInput], now: datetime, *,
                        force_reason: str | None = None,
                        source: Source | None = None) -> Customer | None:
        """The fields in ``patch.fields_set`` and the contacts given (matched to the live
        contacts by name; others stay) change, by the rules of an update; None when
        nothing differs (no version, history or event)."""
        errors = FieldErrors()
        fields = await self._patched(uow, current, patch, errors)
        cleaned = [self._clean_contact(c, f"/contacts/{i}", errors)
                   for i, c in enumerate(contacts)]
        errors.raise_if_any()
        changed = taking(current, fields)
        updated, added = self._merge_contacts(current, cleaned, now)
        changed.contacts = updated + added
        touched = [c for c in updated if c not in current.contacts] + added
        if changed.snapshot() == current.snapshot() and not touched:
            return None
        if changed.credit_code != current.credit_code or touched or \
                changed.external_refs != current.external_refs:
            await self._check_duplicates(uow, changed, touched, force_reason,
                                         other_than=current.id, ctx=ctx)
        action, actor_id, request_id = _origin(ctx, "customer.updated", source)
        for contact in updated:
            await self._save_contact_if_changed(uow, ctx, current, contact, now,
                                                request_id=request_id)
        for contact in added:
            await uow.customers.add_contact(contact)
            await uow.customers.add_history(
                current.id, changes(None, contact.snapshot()), action="contact.added",
                actor_id=actor_id, request_id=request_id, now=now, contact_id=contact.id)
        return await self._save(uow, ctx, current, changed, action, now, commit=False,
                                source=source)

    async def _patched(self, uow: UnitOfWork, current: Customer, patch: CustomerInput,
                       errors: FieldErrors) -> CustomerInput:
        """The customer's fields with the patch's sent ones, cleaned as on entry."""
        vocabulary, _ = await load_policy(uow, NEEDS_VOCABULARY)
        merged = filled_in(patch, current, patch.fields_set)
        return self._clean_fields(merged, errors, vocabulary.check)

    def _merge_contacts(self, current: Customer, given: list[ContactInput],
                        now: datetime) -> tuple[list[Contact], list[Contact]]:
        """Given contacts update the live contact of the same name (a phone or e-mail it
        already had keeps its verified flag) or are added; a new primary takes the flag."""
        contacts = list(current.contacts)
        added: list[Contact] = []
        for data in given:
            index = next((i for i, c in enumerate(contacts)
                          if c.erased_at is None and c.name == data.name), None)
            if index is None:
                added.append(self._new_contact(current.id, data, now))
                continue
            old = contacts[index]
            phones = {p.number: p for p in old.phones}
            emails = {e.address.lower(): e for e in old.emails}
            contacts[index] = replace(
                old, title=data.title, im_handle=data.im_handle,
                preferred_channel=data.preferred_channel,
                is_primary=old.is_primary or data.is_primary,
                phones=[phones.get(p.number, p) for p in data.phones],
                emails=[emails.get(e.address.lower(), e) for e in data.emails])
        everyone = contacts + added
        primary = next((c for c in everyone if c.is_primary and
                        (c in added or c not in current.contacts)), None)
        everyone = self._with_primary(everyone, primary)
        if everyone and not any(c.is_primary for c in everyone):
            everyone[0].is_primary = True
        return everyone[:len(contacts)], everyone[len(contacts):]

    async def _holder(self, uow: UnitOfWork, ctx: RequestContext,
                      holder: UUID) -> dict[str, Any] | None:
        """The customer holding a reference, as the caller may see it (nothing outside
        their read scope)."""
        assert ctx.principal is not None
        found = await uow.customers.get(holder, read_scope(ctx.principal))
        return None if found is None else {"id": str(found.id), "name": found.name}

    async def _owner(self, uow: UnitOfWork, principal: Principal,
                     requested: UUID | None) -> tuple[UUID, UUID]:
        """The owner is an active account manager; an account manager creates for
        themselves, a department head for their department, admins for anyone."""
        owner_id = requested
        if owner_id is None:
            if Role.ACCOUNT_MANAGER not in principal.roles:
                raise InvalidInput([FieldError("/owner_id", "missing")])
            owner_id = principal.id
        owner = await uow.users.get(owner_id)
        if owner is None or not owner.active or Role.ACCOUNT_MANAGER not in owner.roles:
            raise OwnerNotAllowed(reason="not_an_active_account_manager")
        scope = write_scope(principal)
        if not scope.covers(owner_id=owner.id, department_id=owner.department_id):
            raise OwnerNotAllowed(reason="outside_your_scope")
        return owner.id, owner.department_id

    # changing ------------------------------------------------------------------------

    async def update(self, ctx: RequestContext, customer_id: UUID, expected_version: int,
                     patch: CustomerInput, force_reason: str | None = None) -> CustomerView:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current = await self._writable(uow, ctx, customer_id, expected_version)
            errors = FieldErrors()
            fields = await self._patched(uow, current, patch, errors)
            errors.raise_if_any()
            changed = taking(current, fields)
            if changed.credit_code != current.credit_code or \
                    changed.external_refs != current.external_refs:
                await self._check_duplicates(uow, changed, [], force_reason,
                                             other_than=current.id)
            return _view(ctx, await self._save(uow, ctx, current, changed, "customer.updated",
                                               now))

    async def set_archived(self, ctx: RequestContext, customer_id: UUID, expected_version: int,
                           archived: bool) -> CustomerView:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current = await self._writable(uow, ctx, customer_id, expected_version)
            if (current.archived_at is not None) == archived:
                raise InvalidState(state="archived" if archived else "not_archived")
            if current.merged_into is not None:
                raise InvalidState(state="merged")
            changed = replace(current, archived_at=now if archived else None)
            action = "customer.archived" if archived else "customer.restored"
            return _view(ctx, await self._save(uow, ctx, current, changed, action, now))

    async def change_stage(self, ctx: RequestContext, customer_id: UUID, expected_version: int,
                           target: Stage, churn_reason: ChurnReason | None,
                           churn_note: str | None) -> CustomerView:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current = await self._writable(uow, ctx, customer_id, expected_version)
            step = transition(current.stage, target, churn_reason, churn_note)
            churned = target is Stage.CHURNED
            changed = replace(current, stage=target,
                              churn_reason=churn_reason if churned else None,
                              churn_note=churn_note if churned else None)
            return _view(ctx, await self._save(
                uow, ctx, current, changed, "customer.stage_changed", now,
                {"from": current.stage, "to": target, "action": step.action,
                 "churn_reason": changed.churn_reason}))

    async def set_tier_override(self, ctx: RequestContext, customer_id: UUID,
                                expected_version: int, tier: Tier | None,
                                reason: str | None) -> CustomerView:
        """A manual tier needs a reason; clearing it returns to the computed tier."""
        if tier is not None and not (reason or "").strip():
            raise InvalidInput([FieldError("/reason", "missing")])
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current = await self._writable(uow, ctx, customer_id, expected_version)
            changed = replace(current, tier_manual=tier,
                              tier_manual_reason=reason if tier is not None else None)
            return _view(ctx, await self._save(
                uow, ctx, current, changed, "customer.tier_overridden", now,
                {"tier": changed.tier, "computed": changed.tier_computed}))

    async def add_contact(self, ctx: RequestContext, customer_id: UUID,
                          expected_version: int | None,
                          new: ContactInput, force_reason: str | None = None) -> Contact:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current = await self._writable(uow, ctx, customer_id, expected_version)
            errors = FieldErrors()
            clean = self._clean_contact(new, "", errors)
            errors.raise_if_any()
            contact = self._new_contact(customer_id, clean, now)
            await self._check_duplicates(uow, current, [contact], force_reason,
                                         other_than=current.id)
            changed = replace(current, contacts=self._with_primary(
                [*current.contacts, contact], contact if contact.is_primary else None))
            for other in changed.contacts:
                if other is not contact:
                    await self._save_contact_if_changed(uow, ctx, current, other, now)
            await uow.customers.add_contact(contact)
            await uow.customers.add_history(
                customer_id, changes(None, contact.snapshot()), action="contact.added",
                actor_id=_actor(ctx), request_id=ctx.request_id, now=now, contact_id=contact.id)
            await self._save(uow, ctx, current, changed, "contact.added", now,
                             _contact_view(contact))
            return contact

    async def update_contact(self, ctx: RequestContext, customer_id: UUID, contact_id: UUID,
                             expected_version: int, patch: ContactInput,
                             fields_set: frozenset[str]) -> Contact:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current, contact = await self._live_contact(uow, ctx, customer_id, contact_id,
                                                        expected_version)
            merged = filled_in(patch, contact, fields_set)
            errors = FieldErrors()
            clean = self._clean_contact(merged, "", errors)
            errors.raise_if_any()
            updated = replace(taking(contact, clean), version=contact.version + 1,
                              updated_at=now)
            await self._check_duplicates(uow, current, [updated], None, other_than=current.id)
            contacts = [updated if c.id == contact.id else c for c in current.contacts]
            changed = replace(current, contacts=self._with_primary(
                contacts, updated if updated.is_primary else None))
            for other in changed.contacts:
                await self._save_contact_if_changed(uow, ctx, current, other, now)
            await self._save(uow, ctx, current, changed, "contact.updated", now,
                             _contact_view(updated))
            return next(c for c in changed.contacts if c.id == contact.id)

    async def erase_contact(self, ctx: RequestContext, customer_id: UUID, contact_id: UUID,
                            expected_version: int) -> Contact:
        """PIPL-style erasure: the contact's personal data is blanked and every value of it in
        the customer's history is redacted; the audit log keeps only the fact and time."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current, contact = await self._live_contact(uow, ctx, customer_id, contact_id,
                                                        expected_version)
            erased = replace(contact, name=ERASED, title="", phones=[], emails=[], im_handle="",
                             preferred_channel=None, is_primary=False, erased_at=now,
                             version=contact.version + 1, updated_at=now)
            await uow.customers.save_contact(erased)
            await uow.customers.redact_contact_history(contact.id)
            await uow.customers.add_history(
                customer_id, [FieldChange("erased_at", None, now.isoformat())],
                action="contact.erased", actor_id=_actor(ctx), request_id=ctx.request_id,
                now=now, contact_id=contact.id)
            changed = replace(current, contacts=[erased if c.id == contact.id else c
                                                 for c in current.contacts])
            await self._save(uow, ctx, current, changed, "contact.erased", now,
                             {"contact_id": str(contact.id), "erased_at": now.isoformat()},
                             history=False)
            return erased

    async def merge(self, ctx: RequestContext, target_id: UUID, expected_version: int,
                    source_id: UUID, source_version: int) -> CustomerView:
        """Move the source's contacts and history into the target; the source is archived
        and points at the target. Both histories record the merge."""
        if source_id == target_id:
            raise InvalidInput([FieldError("/source_id", "merge_into_itself")])
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            target = await self._writable(uow, ctx, target_id, expected_version)
            source = await self._writable(uow, ctx, source_id, source_version)
            if source.archived_at is not None or target.archived_at is not None:
                raise InvalidState(state="archived")
            for system, external in source.external_refs.items():
                if target.external_refs.get(system, external) != external:
                    raise ExternalRefTaken(system=system, external_id=external)
            moved = [replace(c, customer_id=target.id, version=c.version + 1, updated_at=now,
                             is_primary=c.is_primary and not any(t.is_primary
                                                                 for t in target.contacts))
                     for c in source.contacts]
            await uow.customers.copy_history(source.id, target.id)
            await uow.customers.move_contacts(source.id, target.id)
            for contact in moved:
                await uow.customers.save_contact(contact)
            # The merge itself is a history entry on both sides, even when no field of the
            # target changes (the snapshot diff alone would then record nothing).
            for side, name, other in ((source.id, "merged_into", target.id),
                                      (target.id, "merged_from", source.id)):
                await uow.customers.add_history(
                    side, [FieldChange(name, None, str(other))],
                    action="customer.merged_away" if side == source.id else "customer.merged",
                    actor_id=_actor(ctx), request_id=ctx.request_id, now=now)
            merged_source = replace(source, archived_at=now, merged_into=target.id, contacts=[],
                                    external_refs={})
            await self._save(uow, ctx, source, merged_source, "customer.merged_away", now,
                             {"into": str(target.id), "into_name": target.name}, commit=False)
            changed = replace(target, contacts=[*target.contacts, *moved],
                              tags=sorted(set(target.tags) | set(source.tags)),
                              needs=sorted(set(target.needs) | set(source.needs)),
                              external_refs={**source.external_refs, **target.external_refs})
            return _view(ctx, await self._save(uow, ctx, target, changed, "customer.merged", now,
                                               {"from": str(source.id),
                                                "from_name": source.name}))

    # policies ------------------------------------------------------------------------

    async def tier_policy(self, ctx: RequestContext) -> tuple[TierPolicy, int]:
        async with self._uow(ctx, write=False) as uow:
            return await load_policy(uow, TIER_POLICY)

    async def integrity_policy(self, ctx: RequestContext) -> tuple[IntegrityPolicy, int]:
        async with self._uow(ctx, write=False) as uow:
            return await load_policy(uow, INTEGRITY_POLICY)

    async def needs_vocabulary(self, ctx: RequestContext) -> tuple[NeedsVocabulary, int]:
        async with self._uow(ctx, write=False) as uow:
            return await load_policy(uow, NEEDS_VOCABULARY)

    async def set_needs_vocabulary(self, ctx: RequestContext, vocabulary: NeedsVocabulary,
                                   expected_version: int) -> int:
        """Terms still used by a customer cannot be removed from the vocabulary."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            current, _ = await load_policy(uow, NEEDS_VOCABULARY)
            removed = sorted(set(current.terms) - set(vocabulary.terms))
            in_use = await uow.customers.needs_in_use(removed) if removed else []
            if in_use:
                raise InvalidState(state="needs_in_use", needs=", ".join(in_use))
            version = await store_policy(uow, NEEDS_VOCABULARY, vocabulary, expected_version,
                                         _actor(ctx), now)
            await uow.commit()
            return version

    async def set_tier_policy(self, ctx: RequestContext, policy: TierPolicy,
                              expected_version: int) -> int:
        return await self._set_policy(ctx, TIER_POLICY, policy, expected_version)

    async def set_integrity_policy(self, ctx: RequestContext, policy: IntegrityPolicy,
                                   expected_version: int) -> int:
        return await self._set_policy(ctx, INTEGRITY_POLICY, policy, expected_version)

    async def _set_policy(self, ctx: RequestContext, kind: Any, policy: Any,
                          expected_version: int) -> int:
        """Saving a classification policy reclassifies every customer in the same
        transaction, so no customer is ever shown under an outdated policy."""
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            version = await store_policy(uow, kind, policy, expected_version, _actor(ctx), now)
            after: UUID | None = None
            while ids := await uow.customers.all_ids(after, 500):
                for customer_id in ids:
                    current = await uow.customers.get(customer_id, RecordScope(Reach.ALL),
                                                      for_update=True)
                    assert current is not None
                    changed = replace(current)
                    await self._classify(uow, changed)
                    if (changed.tier_computed, changed.integrity_score, changed.value_score) != (
                            current.tier_computed, current.integrity_score,
                            current.value_score):
                        await self._save(uow, ctx, current, changed, "customer.reclassified",
                                         now, commit=False)
                after = ids[-1]
            await uow.commit()
            return version

    async def hand_over(self, uow: UnitOfWork, ctx: RequestContext, customer: Customer,
                        to_manager_id: UUID, now: datetime, data: dict[str, Any]) -> None:
        """The owner change of a handover's transfer, inside the handover's transaction:
        history, audit and timeline like any other change, committed with the rest."""
        after = replace(customer, owner_id=to_manager_id)
        await self._save(uow, ctx, customer, after, "customer.handed_over", now, data,
                         commit=False)

    # helpers -------------------------------------------------------------------------

    async def _readable(self, uow: UnitOfWork, ctx: RequestContext,
                        customer_id: UUID) -> Customer:
        assert ctx.principal is not None
        customer = await uow.customers.get(customer_id, read_scope(ctx.principal))
        if customer is None and await uow.handovers.receiving(customer_id, ctx.principal.id):
            # The receiving manager reads the customer while it is being handed over to
            # them; writing waits for the transfer.
            customer = await uow.customers.get(customer_id, RecordScope(Reach.ALL))
        if customer is None:
            raise NotFound(entity="customer")
        return customer

    async def _writable(self, uow: UnitOfWork, ctx: RequestContext, customer_id: UUID,
                        expected_version: int | None) -> Customer:
        """Locked for the rest of the transaction. Readable but not writable is 404 too:
        an analyst learns nothing more from a write than from a read."""
        assert ctx.principal is not None
        customer = await uow.customers.get(customer_id, write_scope(ctx.principal),
                                           for_update=True)
        if customer is None:
            raise NotFound(entity="customer")
        if expected_version is not None:
            check_version(customer.version, expected_version)
        return customer

    async def _live_contact(self, uow: UnitOfWork, ctx: RequestContext, customer_id: UUID,
                            contact_id: UUID, expected_version: int) -> tuple[Customer, Contact]:
        """The customer (locked) and its contact at the version the caller read; an erased
        contact can no longer change."""
        customer = await self._writable(uow, ctx, customer_id, None)
        contact = next((c for c in customer.contacts if c.id == contact_id), None)
        if contact is None:
            raise NotFound(entity="contact")
        check_version(contact.version, expected_version)
        if contact.erased_at is not None:
            raise InvalidState(state="erased")
        return customer, contact

    @staticmethod
    def _with_primary(contacts: list[Contact], primary: Contact | None) -> list[Contact]:
        """At most one primary contact: a new primary takes the flag from the others."""
        if primary is None:
            return contacts
        return [c if c is primary or not c.is_primary else replace(c, is_primary=False)
                for c in contacts]

    async def _save_contact_if_changed(self, uow: UnitOfWork, ctx: RequestContext,
                                       customer: Customer, contact: Contact,
                                       now: datetime, request_id: str | None = None) -> None:
        before = next((c for c in customer.contacts if c.id == contact.id), None)
        if before is None or before == contact:
            return
        if before.version == contact.version:
            contact.version += 1
            contact.updated_at = now
        await uow.customers.save_contact(contact)
        await uow.customers.add_history(
            customer.id, changes(before.snapshot(), contact.snapshot()),
            action="contact.updated", actor_id=_actor(ctx),
            request_id=request_id or ctx.request_id, now=now, contact_id=contact.id)

    async def _classify(self, uow: UnitOfWork, customer: Customer) -> None:
        tiers, _ = await load_policy(uow, TIER_POLICY)
        integrity, _ = await load_policy(uow, INTEGRITY_POLICY)
        customer.value_score = value_score(customer.annual_revenue,
                                           customer.strategic_importance,
                                           customer.growth_potential, tiers)
        customer.tier_computed = tier_for(customer.value_score, tiers)
        customer.integrity_score = evaluate(customer, integrity).percent

    async def _save(self, uow: UnitOfWork, ctx: RequestContext, before: Customer,
                    after: Customer, action: str, now: datetime,
                    event_data: dict[str, Any] | None = None, *, history: bool = True,
                    commit: bool = True, source: Source | None = None) -> Customer:
        """Reclassify, bump the version, write the row, its history, audit and event."""
        await self._classify(uow, after)
        after.version = before.version + 1
        after.updated_at = now
        await uow.customers.save(after)
        diff = changes(before.snapshot(), after.snapshot())
        if history:
            await uow.customers.add_history(after.id, diff, action=action,
                                            actor_id=_actor(ctx),
                                            request_id=ctx.request_id if source is None
                                            else source.reference,
                                            now=now)
        if source is not None:  # the job records one audit entry and event for all rows
            return after
        uow.record_change(action, "customer", after.id,
                          before={c.field: c.old for c in diff} | (event_data or {}),
                          after={c.field: c.new for c in diff},
                          event={"changed": [c.field for c in diff], **(event_data or {})},
                          at=now, customer_id=after.id)
        if commit:
            await uow.commit()
        return after

    async def _check_duplicates(self, uow: UnitOfWork, customer: Customer,
                                contacts: list[Contact], force_reason: str | None, *,
                                other_than: UUID | None,
                                ctx: RequestContext | None = None) -> None:
        for system, external in customer.external_refs.items():
            holder = await uow.customers.external_ref_holder(system, external)
            if holder is not None and holder != customer.id:
                raise ExternalRefTaken(
                    system=system, external_id=external,
                    holder=None if ctx is None else await self._holder(uow, ctx, holder))
        hits: list[DuplicateHit] = []
        if customer.credit_code:
            hit = await uow.customers.credit_code_holder(customer.credit_code, other_than)
            if hit is not None:
                hits.append(hit)
        points = sorted({("phone", p.number) for c in contacts for p in c.phones}
                        | {("email", e.address.lower()) for c in contacts for e in c.emails})
        hits += await uow.customers.contact_point_holders(points, other_than)
        if hits and not (force_reason or "").strip():
            raise DuplicateCustomer([h.__dict__ for h in hits])

    def _clean_fields(self, fields: CustomerInput, errors: FieldErrors,
                      check_needs: Any) -> CustomerInput:
        credit_code = fields.credit_code
        if credit_code:
            if fields.kind is CustomerKind.INDIVIDUAL:
                errors.add("/credit_code", "credit_code_companies_only")
            else:
                credit_code = errors.check(validation.credit_code, credit_code)
        needs = errors.check(check_needs, fields.needs) or []
        return replace(fields, credit_code=credit_code or None, needs=needs,
                       tags=sorted(set(fields.tags)))

    def _clean_contact(self, contact: ContactInput, pointer: str,
                       errors: FieldErrors) -> ContactInput:
        phones = [Phone(n, p.verified) for i, p in enumerate(contact.phones)
                  if (n := errors.check(validation.phone, p.number, f"{pointer}/phones/{i}"))]
        emails = [Email(a, e.verified) for i, e in enumerate(contact.emails)
                  if (a := errors.check(validation.email, e.address, f"{pointer}/emails/{i}"))]
        return replace(contact, phones=phones, emails=emails)

    @staticmethod
    def _new_contact(customer_id: UUID, data: ContactInput, now: datetime) -> Contact:
        return Contact(id=new_id(), customer_id=customer_id, name=data.name, title=data.title,
                       phones=list(data.phones), emails=list(data.emails),
                       im_handle=data.im_handle, preferred_channel=data.preferred_channel,
                       is_primary=data.is_primary, version=1, created_at=now, updated_at=now)

