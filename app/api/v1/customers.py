"""``/customers``: the customer archive (客户档案) with contacts, classification,
integrity, history, timeline, duplicates, merge and health; ``/settings/customer-*``
policies."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Path, Query, Request, Response

from app.api.container import services
from app.api.etag import etag_of, if_match, optional_if_match, set_etag
from app.api.idempotency import Idempotent
from app.api.pagination import ListPage, encode_cursor, list_page, page_params
from app.api.policy_settings import policy_setting
from app.api.problems import error_responses
from app.api.query import search_text
from app.api.security import allow
from app.api.v1.routing import feature_router
from app.api.v1.schemas.base import Instant, JobOut
from app.api.v1.schemas.customers import (
    ContactAdd,
    ContactOut,
    ContactPatch,
    CustomerCreate,
    CustomerOut,
    CustomerPatch,
    CustomerSummary,
    HealthOut,
    HealthPolicyIO,
    HealthPolicyOut,
    HistoryOut,
    IntegrityOut,
    IntegrityPolicyIn,
    IntegrityPolicyOut,
    MergeRequest,
    NeedsVocabularyIn,
    NeedsVocabularyOut,
    StageChange,
    TierOverride,
    TierPolicyIn,
    TierPolicyOut,
    TimelineOut,
)
from app.domain.access.roles import Role, Scope
from app.domain.common.paging import PageRequest
from app.domain.customers.health import HealthPolicy
from app.domain.customers.integrity import IntegrityPolicy
from app.domain.customers.model import Contact, Customer, Email, Phone, Stage, Tier
from app.domain.customers.needs import NeedsVocabulary
from app.services.customers import ContactInput, CustomerInput, CustomerView, NewCustomer
from app.services.ports import RequestContext
from app.services.ports.customers import CustomerFilter

router = feature_router("customers")
CustomerSearch = search_text("the name or a contact's name")

READERS = allow(Role.ADMIN, Role.EXECUTIVE, Role.ANALYST, Role.AUDITOR, Role.DEPARTMENT_HEAD,
                Role.ACCOUNT_MANAGER, scopes=(Scope.CUSTOMERS_READ,))
WRITERS = allow(Role.ADMIN, Role.DEPARTMENT_HEAD, Role.ACCOUNT_MANAGER,
                scopes=(Scope.CUSTOMERS_WRITE,))
Reader = Annotated[RequestContext, Depends(READERS)]
Writer = Annotated[RequestContext, Depends(WRITERS)]
Admin = Annotated[RequestContext, Depends(allow(Role.ADMIN))]
AnyRole = Annotated[RequestContext, Depends(allow(*Role))]  # health: every role, no API key
Scheduler = Annotated[RequestContext, Depends(allow(Role.ADMIN, scopes=(Scope.JOBS_RUN,)))]
Version = Annotated[int, Depends(if_match)]
CHANGE_ERRORS = error_responses(404, 409, 412, 428)
SummaryPage = ListPage[CustomerSummary]


def _tier(c: Customer) -> dict[str, Any]:
    return {"effective": c.tier, "computed": c.tier_computed, "manual": c.tier_manual,
            "manual_reason": c.tier_manual_reason, "value_score": c.value_score}


def _summary(c: Customer) -> CustomerSummary:
    return CustomerSummary.model_validate({**c.__dict__, "tier": _tier(c),
                                           "archived": c.archived_at is not None})


def _contact(contact: Contact) -> ContactOut:
    return ContactOut.model_validate(contact.__dict__)


def _customer(response: Response, view: CustomerView) -> CustomerOut:
    set_etag(response, view.customer.version)
    return _customer_out(view)


def _customer_out(view: CustomerView) -> CustomerOut:
    c = view.customer
    return CustomerOut.model_validate({
        **c.__dict__, "tier": _tier(c), "archived": c.archived_at is not None,
        "contacts": [_contact(x) for x in c.contacts], "allowed_stages": view.allowed_stages})


def _json(model: Any, headers: dict[str, str] | None = None) -> Response:
    """The hot reads serialise their model once, here; FastAPI would validate it against
    ``response_model`` again first. ``response_model`` stays on the route for the schema,
    and the bytes are the same (FastAPI serialises with the same ``dump_json``)."""
    return Response(model.model_dump_json(), media_type="application/json", headers=headers)


def _contact_input(body: ContactAdd | ContactPatch | Any) -> ContactInput:
    sent = body.model_fields_set - {"force_reason"}
    values = {name: getattr(body, name) for name in sent}
    if "phones" in values:
        values["phones"] = [Phone(p.number, p.verified) for p in body.phones]
    if "emails" in values:
        values["emails"] = [Email(e.address, e.verified) for e in body.emails]
    return ContactInput(**{"name": "", **values})


def _fields(body: CustomerCreate | CustomerPatch) -> CustomerInput:
    sent = body.model_fields_set - {"owner_id", "stage", "contacts", "force_reason"}
    values = {name: getattr(body, name) for name in sent}
    return CustomerInput(**values, fields_set=frozenset(sent))


# customers ---------------------------------------------------------------------------

@router.post("/customers", response_model=CustomerOut, status_code=201,
             summary="Create a customer (with its contacts)",
             responses=error_responses(409), dependencies=[Idempotent])
async def create(request: Request, response: Response, body: CustomerCreate,
                 ctx: Writer) -> CustomerOut:
    """Refused with 409 `duplicate_customer`, naming the existing customer, when the credit
    code or a contact's phone or e-mail already belongs to another customer — unless
    `force_reason` says why to create it anyway."""
    view = await services(request).customers.create(ctx, NewCustomer(
        fields=_fields(body), contacts=[_contact_input(c) for c in body.contacts],
        owner_id=body.owner_id, stage=body.stage, force_reason=body.force_reason))
    response.headers["Location"] = f"/api/v1/customers/{view.customer.id}"
    return _customer(response, view)


@router.get("/customers", response_model=SummaryPage,
            summary="List and search customers in your scope")
async def list_customers(
    request: Request, ctx: Reader,
    page: Annotated[PageRequest, Depends(page_params(["updated_at", "created_at", "name"],
                                                     "-updated_at"))],
    q: CustomerSearch = None,
    owner_id: Annotated[UUID | None, Query()] = None,
    department_id: Annotated[UUID | None, Query()] = None,
    tier: Annotated[Tier | None, Query(description="Effective tier")] = None,
    stage: Annotated[Stage | None, Query()] = None,
    tag: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
    updated_since: Annotated[Instant | None, Query()] = None,
    integrity_below: Annotated[int | None, Query(ge=1, le=101, description=(
        "Only customers whose completeness % is below this"))] = None,
    include_archived: Annotated[bool, Query()] = False,
    contact_overdue: Annotated[bool, Query(description=(
        "Only customers whose next contact (回访, by the tier's cadence in working days) "
        "is overdue"))] = False,
    external_ref: Annotated[str | None, Query(
        max_length=161, pattern=r"^[a-z][a-z0-9_]{0,31}:.{1,128}$",
        description="`system:id`, e.g. `zoho:4876876000000390001`: the customer a CRM id "
                    "points to")] = None,
) -> Response:
    filters = CustomerFilter(owner_id=owner_id, department_id=department_id, tier=tier,
                             stage=stage, tag=tag, updated_since=updated_since,
                             integrity_below=integrity_below, q=q,
                             include_archived=include_archived,
                             contact_overdue=contact_overdue,
                             external_ref=None if external_ref is None
                             else tuple(external_ref.split(":", 1)))  # type: ignore[arg-type]
    result = await services(request).customers.list(ctx, filters, page)
    next_cursor = None if result.next_after is None else encode_cursor(
        services(request).cursor_key, request.url.path, page.sort, result.next_after)
    return _json(SummaryPage(data=[_summary(c) for c in result.items], next_cursor=next_cursor))


@router.put("/customers/by-external-ref/{system}/{external_id}", response_model=CustomerOut,
            summary="Create or update the customer a CRM id points to (live sync)",
            responses={**error_responses(404, 409, 412, 428),
                       201: {"model": CustomerOut, "description": "Created"}},
            dependencies=[Idempotent])
async def put_by_external_ref(
        request: Request, response: Response, body: CustomerCreate, ctx: Writer,
        system: Annotated[str, Path(max_length=32, pattern=r"^[a-z][a-z0-9_]*$")],
        external_id: Annotated[str, Path(min_length=1, max_length=128)],
        version: Annotated[int | None, Depends(optional_if_match)]) -> CustomerOut:
    """Creates the customer (201) when no customer holds `system`/`external_id`;
    otherwise updates the fields sent, and contacts by name (200, If-Match required; the
    same version when nothing differs). Same rules as `POST /customers`; 409
    `external_ref_taken` names the holder (`holder`) of a reference held by a customer you
    may not write, or of another reference in `external_refs`."""
    view, created = await services(request).customers.put_by_external_ref(
        ctx, system, external_id, version, NewCustomer(
            fields=_fields(body), contacts=[_contact_input(c) for c in body.contacts],
            owner_id=body.owner_id, stage=body.stage, force_reason=body.force_reason))
    if created:
        response.status_code = 201
        response.headers["Location"] = f"/api/v1/customers/{view.customer.id}"
    return _customer(response, view)


@router.get("/customers/{customer_id}", response_model=CustomerOut, summary="Read a customer",
            responses=error_responses(404))
async def get(request: Request, customer_id: UUID, ctx: Reader) -> Response:
    view = await services(request).customers.get(ctx, customer_id)
    return _json(_customer_out(view), {"ETag": etag_of(view.customer.version)})


@router.patch("/customers/{customer_id}", response_model=CustomerOut,
              summary="Change a customer's fields", responses=CHANGE_ERRORS)
async def update(request: Request, response: Response, customer_id: UUID,
                 body: CustomerPatch, ctx: Writer, version: Version) -> CustomerOut:
    """The owner moves only through a handover; tier, score, stage and dates are
    server-owned (sending them is a 422)."""
    view = await services(request).customers.update(ctx, customer_id, version,
                                                     _fields(body), body.force_reason)
    return _customer(response, view)


@router.post("/customers/{customer_id}/archive", response_model=CustomerOut,
             summary="Archive a customer", responses=CHANGE_ERRORS, dependencies=[Idempotent])
async def archive(request: Request, response: Response, customer_id: UUID,
                  ctx: Writer, version: Version) -> CustomerOut:
    view = await services(request).customers.set_archived(ctx, customer_id, version, True)
    return _customer(response, view)


@router.post("/customers/{customer_id}/restore", response_model=CustomerOut,
             summary="Restore an archived customer", responses=CHANGE_ERRORS,
             dependencies=[Idempotent])
async def restore(request: Request, response: Response, customer_id: UUID,
                  ctx: Writer, version: Version) -> CustomerOut:
    view = await services(request).customers.set_archived(ctx, customer_id, version, False)
    return _customer(response, view)


@router.post("/customers/{customer_id}/stage", response_model=CustomerOut,
             summary="Move a customer to another lifecycle stage", responses=CHANGE_ERRORS,
             dependencies=[Idempotent])
async def change_stage(request: Request, response: Response, customer_id: UUID,
                       body: StageChange, ctx: Writer, version: Version) -> CustomerOut:
    """prospect → onboarding → active ↔ at_risk → churned → active (won back). Churning
    needs `churn_reason` and `churn_note`; any other move is 409 naming the allowed ones."""
    view = await services(request).customers.change_stage(
        ctx, customer_id, version, body.stage, body.churn_reason, body.churn_note)
    return _customer(response, view)


@router.put("/customers/{customer_id}/tier-override", response_model=CustomerOut,
            summary="Set (or clear) a manual tier", responses=CHANGE_ERRORS)
async def override_tier(request: Request, response: Response, customer_id: UUID,
                        body: TierOverride, ctx: Writer, version: Version) -> CustomerOut:
    view = await services(request).customers.set_tier_override(
        ctx, customer_id, version, body.tier, body.reason)
    return _customer(response, view)


@router.get("/customers/{customer_id}/integrity", response_model=IntegrityOut,
            summary="How complete the customer's record is for its tier",
            responses=error_responses(404))
async def integrity(request: Request, customer_id: UUID, ctx: Reader) -> IntegrityOut:
    report = await services(request).customers.integrity(ctx, customer_id)
    return IntegrityOut(tier=report.tier, percent=report.percent, missing=report.missing,
                        items=[i.__dict__ for i in report.items])  # type: ignore[misc]


@router.get("/customers/{customer_id}/history", response_model=ListPage[HistoryOut],
            summary="Every change of every field", responses=error_responses(404))
async def history(request: Request, customer_id: UUID, ctx: Reader,
                  page: Annotated[PageRequest, Depends(page_params(["occurred_at"],
                                                                   "-occurred_at"))]
                  ) -> dict[str, object]:
    result = await services(request).customers.history(ctx, customer_id, page)
    return list_page(request, result, page, HistoryOut.model_validate)


@router.get("/customers/{customer_id}/timeline", response_model=ListPage[TimelineOut],
            summary="Everything that happened to the customer, newest first",
            responses=error_responses(404))
async def timeline(request: Request, customer_id: UUID, ctx: Reader,
                   page: Annotated[PageRequest, Depends(page_params(["occurred_at"],
                                                                    "-occurred_at"))]
                   ) -> dict[str, object]:
    result = await services(request).customers.timeline(ctx, customer_id, page)
    return list_page(request, result, page, TimelineOut.model_validate)


@router.post("/customers/{customer_id}/merge", response_model=CustomerOut,
             summary="Merge another customer into this one", responses=CHANGE_ERRORS,
             dependencies=[Idempotent])
async def merge(request: Request, response: Response, customer_id: UUID, body: MergeRequest,
                ctx: Writer, version: Version) -> CustomerOut:
    """Contacts and history of `source_id` move here; the source is archived and points
    to this customer. Both histories record the merge."""
    view = await services(request).customers.merge(ctx, customer_id, version,
                                                    body.source_id, body.source_version)
    return _customer(response, view)


# contacts ----------------------------------------------------------------------------

@router.post("/customers/{customer_id}/contacts", response_model=ContactOut, status_code=201,
             summary="Add a contact", responses=CHANGE_ERRORS, dependencies=[Idempotent])
async def add_contact(request: Request, response: Response, customer_id: UUID,
                      body: ContactAdd, ctx: Writer,
                      version: Annotated[int | None, Depends(optional_if_match)]) -> ContactOut:
    contact = await services(request).customers.add_contact(
        ctx, customer_id, version, _contact_input(body), body.force_reason)
    set_etag(response, contact.version)
    response.headers["Location"] = f"/api/v1/customers/{customer_id}/contacts/{contact.id}"
    return _contact(contact)


@router.patch("/customers/{customer_id}/contacts/{contact_id}", response_model=ContactOut,
              summary="Change a contact (If-Match: the contact's version)",
              responses=CHANGE_ERRORS)
async def update_contact(request: Request, response: Response, customer_id: UUID,
                         contact_id: UUID, body: ContactPatch, ctx: Writer,
                         version: Version) -> ContactOut:
    contact = await services(request).customers.update_contact(
        ctx, customer_id, contact_id, version, _contact_input(body),
        frozenset(body.model_fields_set))
    set_etag(response, contact.version)
    return _contact(contact)


@router.post("/customers/{customer_id}/contacts/{contact_id}/erase", response_model=ContactOut,
             summary="Erase a contact's personal data (PIPL request)",
             responses=CHANGE_ERRORS, dependencies=[Idempotent])
async def erase_contact(request: Request, response: Response, customer_id: UUID,
                        contact_id: UUID, ctx: Writer, version: Version) -> ContactOut:
    """Blanks the contact's fields and redacts its values in the customer's history; the
    audit log keeps the fact and time of the erasure only."""
    contact = await services(request).customers.erase_contact(ctx, customer_id, contact_id,
                                                              version)
    set_etag(response, contact.version)
    return _contact(contact)


# health ------------------------------------------------------------------------------

@router.get("/customers/{customer_id}/health", response_model=HealthOut,
            summary="Customer health 0–100 with the factors behind it",
            responses=error_responses(404))
async def get_health(request: Request, customer_id: UUID, ctx: AnyRole) -> HealthOut:
    result = await services(request).customer_health.health(ctx, customer_id)
    return HealthOut(customer_id=customer_id, score=result.score, threshold=result.threshold,
                     suggest_at_risk=result.suggest_at_risk,
                     factors=[f.__dict__ for f in result.factors])


@router.post("/customers/health-checks", response_model=JobOut,
             summary="Recompute every customer's health; announce falls below the threshold")
async def check_health(request: Request, ctx: Scheduler) -> JobOut:
    return JobOut(count=await services(request).customer_health.check_health(ctx))


policy_setting(
    router, "/settings/customer-health", "health_policy", reader=AnyRole, writer=Admin,
    body=HealthPolicyIO, out=HealthPolicyOut, domain=HealthPolicy,
    use_cases=lambda s: (s.customer_health.policy_setting.get,
                         s.customer_health.policy_setting.set),
    summaries=("Customer health weights and the at-risk threshold",
               "Change the customer health policy"), errors=(412, 428))


# policies ----------------------------------------------------------------------------

policy_setting(
    router, "/settings/customer-tier-policy", "tier_policy", reader=Reader, writer=Admin,
    body=TierPolicyIn, out=TierPolicyOut,
    use_cases=lambda s: (s.customers.tier_policy, s.customers.set_tier_policy),
    to_domain=lambda body: body.to_domain(),
    to_out=lambda policy, version: TierPolicyOut(**policy.__dict__, version=version),
    summaries=("Value-score weights and tier thresholds",
               "Change the tier policy (reclassifies every customer)"))
policy_setting(
    router, "/settings/customer-integrity-policy", "integrity_policy", reader=Reader,
    writer=Admin, body=IntegrityPolicyIn, out=IntegrityPolicyOut,
    use_cases=lambda s: (s.customers.integrity_policy, s.customers.set_integrity_policy),
    to_domain=lambda body: IntegrityPolicy({t: tuple(r) for t, r in body.requirements.items()}),
    to_out=lambda policy, version: IntegrityPolicyOut(
        requirements={t: list(r) for t, r in policy.requirements.items()}, version=version),
    summaries=("Fields each tier must have",
               "Change the integrity policy (rescores every customer)"))
policy_setting(
    router, "/settings/customer-needs", "needs", reader=Reader, writer=Admin,
    body=NeedsVocabularyIn, out=NeedsVocabularyOut,
    use_cases=lambda s: (s.customers.needs_vocabulary, s.customers.set_needs_vocabulary),
    to_domain=lambda body: NeedsVocabulary(dict(body.terms)),
    to_out=lambda vocabulary, version: NeedsVocabularyOut(terms=vocabulary.terms,
                                                          version=version),
    summaries=("The managed vocabulary of customer needs (需求)",
               "Change the needs vocabulary (terms in use cannot be removed)"))
