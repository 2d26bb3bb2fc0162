"""The materials checklist of a handover (准备移交资料, domain §4), generated from what the
service knows about the customer. Each material is a named source; later features (open
feedback, active plans) add their own source in the composition root and the checklist
code does not change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.customers.integrity import evaluate
from app.domain.customers.model import Customer
from app.services.policies import INTEGRITY_POLICY, load_policy
from app.services.ports.handovers import CustomerWork
from app.services.ports.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class MaterialContext:
    uow: UnitOfWork
    customer: Customer
    work: CustomerWork
    now: datetime | None = None  # when the checklist is made (what is overdue by then)


@dataclass(frozen=True)
class Material:
    key: str
    collect: Callable[[MaterialContext], Awaitable[dict[str, Any]]]


def _held_elsewhere(customer: Customer) -> dict[str, Any]:
    """Contracts and transactions live in the CRMs and ERPs Accord sits next to: the item
    names where to find them, so both managers check them there."""
    return {"kept_in": sorted(customer.external_refs), "external_refs": customer.external_refs,
            "held_in_accord": False}


async def _basic(ctx: MaterialContext) -> dict[str, Any]:
    c = ctx.customer
    return {"name": c.name, "kind": c.kind, "credit_code": c.credit_code, "industry": c.industry,
            "region": c.region, "address": c.address, "tier": c.tier, "stage": c.stage,
            "tags": c.tags, "annual_revenue": str(c.annual_revenue)
            if c.annual_revenue is not None else None, "currency": c.currency}


async def _contacts(ctx: MaterialContext) -> dict[str, Any]:
    live = ctx.customer.live_contacts()
    return {"count": len(live),
            "contacts": [{"id": str(c.id), "name": c.name, "title": c.title,
                          "is_primary": c.is_primary, "preferred_channel": c.preferred_channel,
                          "phones": len(c.phones), "emails": len(c.emails)} for c in live]}


async def _contracts(ctx: MaterialContext) -> dict[str, Any]:
    return {**_held_elsewhere(ctx.customer),
            "attributes": {k: v for k, v in ctx.customer.custom_attributes.items()
                           if "contract" in k.lower() or "合同" in k}}


async def _transactions(ctx: MaterialContext) -> dict[str, Any]:
    return {**_held_elsewhere(ctx.customer),
            "closed_change_requests": ctx.work.closed_change_requests}


async def _open_changes(ctx: MaterialContext) -> dict[str, Any]:
    return {"count": len(ctx.work.open_change_requests),
            "change_requests": ctx.work.open_change_requests}


async def _open_risks(ctx: MaterialContext) -> dict[str, Any]:
    return {"count": len(ctx.work.open_risks), "risks": ctx.work.open_risks}


async def _preferences(ctx: MaterialContext) -> dict[str, Any]:
    c = ctx.customer
    return {"preferred_channel": c.preferred_channel, "preferred_time": c.preferred_time,
            "needs": c.needs}


async def _commitments(ctx: MaterialContext) -> dict[str, Any]:
    """Promises not yet kept: open tasks, and open changes with a date the customer was
    given."""
    dated = [cr for cr in ctx.work.open_change_requests if cr["requested_completion_date"]]
    return {"open_tasks": ctx.work.open_tasks, "dated_change_requests": dated,
            "count": len(ctx.work.open_tasks) + len(dated)}


async def _integrity(ctx: MaterialContext) -> dict[str, Any]:
    policy, _ = await load_policy(ctx.uow, INTEGRITY_POLICY)
    report = evaluate(ctx.customer, policy)
    return {"percent": report.percent, "missing": [str(m) for m in report.missing]}


DEFAULT_MATERIALS: tuple[Material, ...] = (
    Material("basic_information", _basic),
    Material("contacts", _contacts),
    Material("contracts", _contracts),
    Material("transaction_history", _transactions),
    Material("open_change_requests", _open_changes),
    Material("open_risks", _open_risks),
    Material("preferences", _preferences),
    Material("pending_commitments", _commitments),
    Material("integrity", _integrity),
)
