"""Batched import chunks and their fast rows against the per-row path, their rule oracle
(issue 17 item 7): the same kind of file, with every kind of bad row and duplicates both
inside a chunk and across chunks, gives the same counts, the same rejected lines and codes
and the same stored customers whichever way its chunks run — each row through
``create_in`` one round trip at a time, batched, or a new customer as plain rows
(``import_new``) written a table at a time."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tests.customer_support import credit_code, customer_history, make_customer, mobile
from tests.import_support import by_ref, csv_bytes, imported, rejected_rows
from tests.support import Actors, unique

MAPPING = ('{"编号": "external_id", "公司名称": "name", "信用代码": "credit_code", '
           '"负责人": "owner", "联系人": "contact_name", "手机": "contact_phone", '
           '"邮箱": "contact_email", "行业": "industry", "年营业额": "annual_revenue"}')


def ref() -> str:
    return f"r{uuid.uuid4().int % 10**12:012d}"


async def scenario(client: httpx.AsyncClient, actors: Actors
                   ) -> tuple[bytes, list[str | None]]:
    """A fresh file of the same shape (its own codes, phones and references), after the
    customers it collides with; with the reference of each line (None: no customer)."""
    am = actors.am_east
    held_ref, held_phone = ref(), mobile()
    existing = await make_customer(client, am, credit_code=credit_code(), industry="零售",
                                   external_refs={"crm": held_ref},
                                   contacts=[{"name": "甲", "phones": [{"number": held_phone}]}])
    other = await make_customer(client, am, credit_code=credit_code(),
                                contacts=[{"name": "乙", "phones": [{"number": mobile()}],
                                           "emails": [{"address": f"{unique('m')}@ex.cn"}]}])
    taken_email = other["contacts"][0]["emails"][0]["address"]
    me = am.username
    code, phone, email = credit_code(), mobile(), f"{unique('p')}@ex.cn"
    refs = [ref() for _ in range(20)]
    header = ["编号", "公司名称", "信用代码", "负责人", "联系人", "手机", "邮箱", "行业",
              "年营业额"]
    rows: list[list[Any]] = [
        [refs[0], unique("好"), code, me, "周敏", phone, email, "制造业", "1250000.50"],  # 2
        [refs[1], unique("校验位"), credit_code("0")[:-1] + "X", me, "", "", "", "", ""],  # 3
        [refs[2], unique("坏手机"), "", me, "乙", "12345", "", "", ""],  # 4
        [refs[3], unique("坏邮箱"), "", me, "丙", "", "not-an-email", "", ""],  # 5
        [refs[4], unique("无此人"), "", "nobody-here", "", "", "", "", ""],  # 6
        [refs[5], unique("越权"), "", actors.am_west.username, "", "", "", "", ""],  # 7
        [refs[6], unique("同码"), code, me, "", "", "", "", ""],  # 8 same chunk
        [refs[7], unique("同手机"), "", me, "丁", phone, "", "", ""],  # 9 next chunk
        [refs[8], unique("同邮箱"), "", me, "戊", "", email.upper(), "", ""],  # 10
        [refs[0], unique("同编号"), "", me, "", "", "", "", ""],  # 11
        [refs[9], unique("库内手机"), "", me, "己", held_phone, "", "", ""],  # 12
        [refs[10], unique("库内邮箱"), "", me, "庚", "", taken_email, "", ""],  # 13
        [held_ref, existing["name"], "", me, "", "", "", "金融", ""],  # 14 updates
        [refs[11], unique("库内代码"), other["credit_code"], me, "", "", "", "", ""],  # 15 upd.
        [refs[12], unique("坏金额"), "", me, "", "", "", "", "一百万"],  # 16
        [refs[13], "", "", me, "", "", "", "", ""],  # 17
        [refs[14], unique("个人"), "", me, "辛", mobile(), "", "教育", ""],  # 18
        [refs[15], unique("再一个"), credit_code(), me, "", "", "", "", "10"]]  # 19
    lines: list[str | None] = [row[0] for row in rows]
    return csv_bytes([header, *rows]), lines


def shape(customer: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a customer's import decided, without what differs between two fresh files."""
    if customer is None:
        return None
    return {"kind": customer["kind"], "industry": customer["industry"],
            "annual_revenue": customer["annual_revenue"], "tier": customer["tier"],
            "stage": customer["stage"], "integrity_score": customer["integrity_score"],
            "version": customer["version"], "owner_id": customer["owner_id"],
            "contacts": [(c["name"], c["is_primary"], len(c["phones"]), len(c["emails"]))
                         for c in customer["contacts"]]}


async def run(client: httpx.AsyncClient, app: FastAPI, actors: Actors,
              batched: bool, fast: bool
              ) -> tuple[dict[str, int], list[tuple[int, str, str]], list[Any]]:
    data, lines = await scenario(client, actors)
    service = app.state.services.imports
    service.batched, service.fast, service.chunk_size = batched, fast, 8
    try:
        job = await imported(client, app, actors.am_east, ("p.csv", data), mapping=MAPPING,
                             system="crm", mode="upsert")
    finally:
        service.batched, service.fast, service.chunk_size = True, True, 500
    assert job["state"] == "completed", job
    rejected = [(int(r["line"]), r["column"], r["code"])
                for r in await rejected_rows(client, actors.am_east, job["id"])]
    stored = []
    for line in lines:
        customer = await by_ref(client, actors.am_east, "crm", line) if line else None
        # which kinds of entry name the job (a fast row writes one a customer and one a
        # contact, ``create_in`` one a field)
        history = [] if customer is None else sorted({
            (h["action"], h["request_id"] == f"import:{job['id']}")
            for h in await customer_history(client, actors.am_east, customer["id"])
            if h["request_id"] and h["request_id"].startswith("import:")})
        stored.append((shape(customer), history))
    return job["counts"], rejected, stored


async def test_batched_chunks_decide_every_row_as_the_per_row_path(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    oracle = await run(client, app, actors, batched=False, fast=False)
    assert await run(client, app, actors, batched=True, fast=False) == oracle
    assert await run(client, app, actors, batched=False, fast=True) == oracle
    batched = await run(client, app, actors, batched=True, fast=True)
    assert batched == oracle
    counts, rejected, stored = batched
    assert {k: v for k, v in counts.items() if v} == {
        "read": 18, "valid": 5, "created": 3, "updated": 2, "rejected": 13}
    assert [(line, code) for line, _, code in rejected] == [
        (3, "credit_code_checksum"), (4, "phone_invalid"), (5, "email_invalid"),
        (6, "owner_login_unknown"), (7, "owner_not_allowed"), (8, "duplicate_in_file"),
        (9, "duplicate_in_file"), (10, "duplicate_in_file"), (11, "duplicate_in_file"),
        (12, "duplicate_customer"), (13, "duplicate_customer"),
        (16, "number_invalid"), (17, "missing")]
    assert stored[0][0] is not None and stored[0][0]["industry"] == "制造业"
    assert stored[12][0] is not None and stored[12][0]["industry"] == "金融"


async def preset_run(client: httpx.AsyncClient, app: FastAPI, actors: Actors,
                     fast: bool) -> list[Any]:
    """A Zoho export (accounts with revenue, tags and addresses; contacts linked by account
    name; one account repeated, one with a bad revenue) imported twice in upsert mode:
    the counts of both jobs, their rejected rows, and the customers as stored."""
    from tests.api.test_imports import ZOHO_ACCOUNTS, ZOHO_CONTACTS, zoho_id

    owner = f"{actors.am_east.username}@example.cn"
    ids = [zoho_id() for _ in range(3)]
    names = [unique("海鸥电子"), unique("云栖科技"), unique("坏金额")]
    accounts = csv_bytes([ZOHO_ACCOUNTS] + [
        [f"zcrm_{i}", owner, n, "", "", "Electronics", revenue, "南山区科技园", "深圳市",
         "广东省", "518057", "China", "", "2024-03-01 10:22:31", tags]
        for i, n, revenue, tags in ((ids[0], names[0], "12,500,000.00", "重点客户;华南"),
                                    (ids[1], names[1], "", ""),
                                    (ids[2], names[2], "很多", ""),
                                    (ids[0], unique("重复"), "", ""))])
    contacts = csv_bytes([ZOHO_CONTACTS,
                          [f"zcrm_{zoho_id()}", owner, "芳", "王", names[0],
                           f"{unique('wang')}@haiou.cn", "采购经理", "", mobile(), ""],
                          [f"zcrm_{zoho_id()}", owner, "Wei", "Zhang", names[1], "", "CTO",
                           mobile(), "", ""]])
    service = app.state.services.imports
    service.fast, service.chunk_size = fast, 2
    found: list[Any] = []
    try:
        for _ in range(2):
            job = await imported(client, app, actors.am_east, ("Accounts.csv", accounts),
                                 ("Contacts.csv", contacts), preset="zoho", mode="upsert")
            rejected = [(r["line"], r["column"], r["code"])
                        for r in await rejected_rows(client, actors.am_east, job["id"])]
            found.append(({k: v for k, v in job["counts"].items() if v}, rejected))
    finally:
        service.fast, service.chunk_size = True, 500
    for zoho in ids:
        customer = await by_ref(client, actors.am_east, "zoho", zoho)
        found.append(None if customer is None else (
            shape(customer), customer["region"], customer["address"], customer["tags"]))
    return found


async def test_a_preset_file_imported_twice_decides_the_same_on_the_fast_path(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    oracle = await preset_run(client, app, actors, fast=False)
    assert await preset_run(client, app, actors, fast=True) == oracle
    first, second = oracle[0], oracle[1]
    assert first[0] == {"read": 6, "valid": 4, "created": 2, "updated": 2, "rejected": 2}
    assert [code for _, _, code in first[1]] == ["number_invalid", "duplicate_in_file"]
    assert second[0] == {"read": 6, "valid": 4, "unchanged": 4, "rejected": 2}
    assert oracle[2] is not None and oracle[2][3] == ["华南", "重点客户"]
