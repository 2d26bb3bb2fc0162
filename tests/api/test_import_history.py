"""What an imported customer's history says (issue 17 item 3): a new customer made by an
import has one entry naming the job with every field it was given, and one entry per
contact with that contact's data — so erasing a contact's personal data redacts exactly
its entry and nothing of the customer's."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI

from tests.api.test_customer_erasure import erase
from tests.customer_support import credit_code, customer_history, mobile, read_customer
from tests.import_support import by_ref, csv_bytes, imported
from tests.support import Actors, unique

MAPPING = ('{"编号": "external_id", "公司名称": "name", "信用代码": "credit_code", '
           '"负责人": "owner", "联系人": "contact_name", "手机": "contact_phone", '
           '"邮箱": "contact_email", "行业": "industry"}')


async def test_a_new_imported_customer_has_one_entry_and_one_a_contact(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    am = actors.am_east
    ref, code, name, person = unique("r"), credit_code(), unique("历史"), unique("周敏")
    phone, email = mobile(), f"{unique('h')}@example.cn"
    data = csv_bytes([["编号", "公司名称", "信用代码", "负责人", "联系人", "手机", "邮箱", "行业"],
                      [ref, name, code, am.username, person, phone, email, "制造业"]])
    job = await imported(client, app, am, ("h.csv", data), mapping=MAPPING, system="crm")
    assert job["counts"]["created"] == 1, job
    customer = await by_ref(client, am, "crm", ref)
    assert customer is not None
    history = await customer_history(client, am, customer["id"])
    (contact,) = customer["contacts"]
    entries = sorted((h["action"], h["field"], h["contact_id"]) for h in history)
    assert entries == [("contact.added", "contact", contact["id"]),
                       ("customer.imported", "customer", None)]
    assert {h["request_id"] for h in history} == {f"import:{job['id']}"}
    fields = next(h for h in history if h["field"] == "customer")
    assert fields["old"] is None
    assert {k: fields["new"][k] for k in ("name", "credit_code", "industry", "external_refs",
                                          "tier_computed", "stage", "owner_id")} == {
        "name": name, "credit_code": code, "industry": "制造业", "external_refs": {"crm": ref},
        "tier_computed": customer["tier"]["computed"], "stage": "prospect",
        "owner_id": customer["owner_id"]}
    added = next(h for h in history if h["field"] == "contact")
    assert added["new"]["name"] == person
    assert added["new"]["phones"] == [{"number": contact["phones"][0]["number"],
                                       "verified": False}]

    erased = await erase(client, am, customer["id"], contact)
    assert erased.status_code == 200, erased.text
    after = await customer_history(client, am, customer["id"])
    kept = next(h for h in after if h["field"] == "customer")
    assert kept["new"] == fields["new"] and not kept["redacted"]
    redacted = next(h for h in after if h["field"] == "contact")
    assert redacted["redacted"] and redacted["new"] is None
    text = json.dumps(after, ensure_ascii=False)
    assert person not in text and email not in text
    assert (await read_customer(client, am, customer["id"]))["name"] == name
