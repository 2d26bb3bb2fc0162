"""Several customers in one transaction (what ``accord demo`` loads through): each by the
create rules, duplicates within the batch included, audited one by one; all or none."""

from __future__ import annotations

from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from app.domain.customers.errors import DuplicateCustomer
from app.domain.customers.model import CustomerKind, Phone
from app.services.auth import user_principal
from app.services.customers import ContactInput, CustomerInput, NewCustomer
from app.services.ports import RequestContext
from tests.customer_support import customer_ids, mobile
from tests.support import Actors, audit_entries, unique


def new(tag: str, owner: str, phone: str) -> NewCustomer:
    return NewCustomer(
        fields=CustomerInput(name=unique("批量客户"), kind=CustomerKind.COMPANY, tags=[tag]),
        contacts=[ContactInput(name="李娜", phones=[Phone(phone)])], owner_id=UUID(owner))


async def admin_ctx(app: FastAPI, actors: Actors) -> RequestContext:
    admin = await app.state.services.people.user_by_username(actors.admin.username)
    return RequestContext(user_principal(admin), request_id=unique("batch"))


async def test_a_batch_is_created_and_audited_customer_by_customer(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    tag = unique("batch")
    views = await app.state.services.customers.create_many(
        await admin_ctx(app, actors), [new(tag, actors.am_east.id, mobile()) for _ in range(3)])

    ids = [str(v.customer.id) for v in views]
    assert await customer_ids(client, actors.admin, tag=tag) == set(ids)
    listed = await client.get("/api/v1/customers", headers=actors.admin.headers,
                              params={"tag": tag, "sort": "created_at"})
    assert [c["id"] for c in listed.json()["data"]] == ids  # in the order given
    for customer_id in ids:
        entries = await audit_entries(client, actors.auditor, "customer", customer_id)
        assert [e["action"] for e in entries] == ["customer.created"]


async def test_a_duplicate_in_the_batch_creates_none(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    tag, phone = unique("batch"), mobile()
    with pytest.raises(DuplicateCustomer):
        await app.state.services.customers.create_many(
            await admin_ctx(app, actors),
            [new(tag, actors.am_east.id, mobile()), new(tag, actors.am_east.id, phone),
             new(tag, actors.am_east.id, phone)])

    assert await customer_ids(client, actors.admin, tag=tag) == set()
