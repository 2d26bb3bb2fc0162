"""Bulk import (issue 17 items 1–3): files written the way Zoho CRM, 纷享销客 and
Salesforce export them, GB18030 and BOM CSVs, XLSX, every kind of bad row with its reason
in English and Chinese, upsert idempotence, record scope, one audit entry and event per
job, and each imported customer's history naming the job."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from tests.customer_support import credit_code, customer_history, e164, make_customer, mobile
from tests.import_support import (
    IMPORTS,
    by_ref,
    csv_bytes,
    imported,
    read_job,
    rejected_rows,
    xlsx_bytes,
)
from tests.support import Actors, assert_problem, audit_entries, unique


def zoho_id() -> str:
    return f"4876876{uuid.uuid4().int % 10**12:012d}"


def counts(job: dict, **expected: int) -> None:
    assert {k: v for k, v in job["counts"].items() if v} == expected, (job["error"], job)


ZOHO_ACCOUNTS = ["Record Id", "Account Owner", "Account Name", "Phone", "Website", "Industry",
                 "Annual Revenue", "Billing Street", "Billing City", "Billing State",
                 "Billing Code", "Billing Country", "Description", "Created Time", "Tag"]
ZOHO_CONTACTS = ["Record Id", "Contact Owner", "First Name", "Last Name", "Account Name",
                 "Email", "Title", "Phone", "Mobile", "Created Time"]


async def test_a_zoho_export_brings_accounts_and_their_contacts(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    owner = f"{actors.am_east.username}@example.cn"
    a, b = zoho_id(), zoho_id()
    name_a, name_b = unique("深圳市海鸥电子有限公司"), unique("杭州云栖科技有限公司")
    phone_a, phone_b = mobile(), mobile()
    accounts = csv_bytes([ZOHO_ACCOUNTS,
                          [f"zcrm_{a}", owner, name_a, "+86 755 8888 1234", "www.haiou.cn",
                           "Electronics", "12,500,000.00", "南山区科技园", "深圳市", "广东省",
                           "518057", "China", "", "2024-03-01 10:22:31", "重点客户;华南"],
                          [f"zcrm_{b}", owner, name_b, "", "", "Software", "", "西湖区",
                           "杭州市", "浙江省", "310000", "China", "老客户", "2024-05-12 09:01:00",
                           ""]])
    contacts = csv_bytes([ZOHO_CONTACTS,
                          [f"zcrm_{zoho_id()}", owner, "芳", "王", name_a,
                           f"{unique('wang')}@haiou.cn", "采购经理", "", phone_a,
                           "2024-03-01 10:25:00"],
                          [f"zcrm_{zoho_id()}", owner, "Wei", "Zhang", name_b, "", "CTO",
                           phone_b, "", "2024-05-12 09:05:00"]])
    job = await imported(client, app, actors.am_east, ("Accounts_001.csv", accounts),
                         ("Contacts_001.csv", contacts), preset="zoho")
    assert (job["state"], job["position"]) == ("completed", 4), job["error"]
    counts(job, read=4, valid=4, created=2, updated=2)
    first = await by_ref(client, actors.am_east, "zoho", a)
    assert first is not None
    assert (first["name"], first["region"], first["address"], first["industry"]) == (
        name_a, "广东省深圳市", "南山区科技园", "Electronics")
    assert first["annual_revenue"] == "12500000.00" and first["tags"] == ["华南", "重点客户"]
    assert first["owner_id"] == actors.am_east.id and first["custom_attributes"] == {}
    (contact,) = first["contacts"]
    assert contact["name"] == "王芳" and contact["title"] == "采购经理"
    assert contact["phones"] == [{"number": e164(phone_a), "verified": False}]
    assert contact["is_primary"]
    second = await by_ref(client, actors.am_east, "zoho", b)
    assert second is not None and second["contacts"][0]["name"] == "Wei Zhang"
    # the history says it came from this job; one audit entry for the whole job
    history = await customer_history(client, actors.am_east, first["id"])
    assert {e["request_id"] for e in history} == {f"import:{job['id']}"}
    assert "customer.imported" in {e["action"] for e in history}
    (entry,) = await audit_entries(client, actors.auditor, "import", job["id"])
    assert entry["action"] == "import.completed"
    assert entry["after"]["counts"]["created"] == 2
    assert [f["sha256"] for f in entry["after"]["files"]] == [f["sha256"] for f in job["files"]]
    assert await audit_entries(client, actors.auditor, "customer", first["id"]) == []


async def test_a_fxiaoke_xlsx_export_with_numbers_in_phone_cells(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    code, number, ref = credit_code(), mobile(), f"KH{uuid.uuid4().int % 10**10:010d}"
    name = unique("成都天府软件股份有限公司")
    accounts = xlsx_bytes([
        ["客户编号", "客户名称", "统一社会信用代码", "负责人", "客户级别", "行业", "省份",
         "城市", "详细地址", "标签", "创建时间"],
        [ref, name, code, actors.am_east.username, "重要客户", "软件和信息技术服务业",
         "四川省", "成都市", "高新区天府大道 1 号", "西南，战略", "2024-01-02 08:00"]])
    contacts = xlsx_bytes([
        ["姓名", "客户名称", "职务", "手机", "电话", "邮箱", "微信"],
        ["刘洋", name, "总经理", int(number.replace(" ", "")), None,
         f"{unique('liu')}@tianfu.cn", "liuyang_tf"]])
    job = await imported(client, app, actors.am_east, ("客户.xlsx", accounts),
                         ("联系人.xlsx", contacts), preset="fxiaoke", keep_unknown=True)
    counts(job, read=2, valid=2, created=1, updated=1)
    customer = await by_ref(client, actors.am_east, "fxiaoke", ref)
    assert customer is not None
    assert customer["credit_code"] == code and customer["tags"] == ["战略", "西南"]
    assert customer["custom_attributes"] == {"客户级别": "重要客户", "创建时间": "2024-01-02 08:00"}
    (contact,) = customer["contacts"]
    assert (contact["name"], contact["im_handle"]) == ("刘洋", "liuyang_tf")
    assert contact["phones"][0]["number"] == e164(number)


async def test_a_salesforce_data_loader_export_links_contacts_by_account_id(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    account_id = f"001{uuid.uuid4().hex[:15]}"
    name = unique("Shanghai Pudong Logistics Co., Ltd.")
    accounts = csv_bytes([
        ["Id", "Name", "Type", "Industry", "BillingStreet", "BillingCity", "BillingState",
         "BillingCountry", "AnnualRevenue", "Phone", "OwnerId", "Owner.Email"],
        [account_id, name, "Customer", "Transportation", "88 Century Ave", "Shanghai",
         "Shanghai", "China", "3500000", "+86 21 5888 0000", "005000000000001AAA",
         f"{actors.head_east.username}@example.cn"]], quote_all=True)
    email = f"{unique('chen')}@pudong-logistics.cn"
    contacts = csv_bytes([
        ["Id", "AccountId", "FirstName", "LastName", "Title", "Email", "Phone", "MobilePhone"],
        [f"003{uuid.uuid4().hex[:15]}", account_id, "Jie", "Chen", "COO", email, "",
         "+86 139 1234 5678"]], quote_all=True)
    job = await imported(client, app, actors.head_east, ("Account.csv", accounts),
                         ("Contact.csv", contacts), preset="salesforce",
                         default_owner=actors.am_east.username)
    # Owner.Email names the department head, who is no account manager: refused
    counts(job, read=2, rejected=2)
    rows = await rejected_rows(client, actors.head_east, job["id"])
    assert [(r["file"], r["line"], r["column"], r["code"]) for r in rows] == [
        ("Account.csv", "2", "Owner.Email", "owner_not_allowed"),
        ("Contact.csv", "2", "AccountId", "account_not_found")]
    fixed = accounts.replace(f"{actors.head_east.username}@".encode(),
                             f"{actors.am_east.username}@".encode())
    job = await imported(client, app, actors.head_east, ("Account.csv", fixed),
                         ("Contact.csv", contacts), preset="salesforce")
    counts(job, read=2, valid=2, created=1, updated=1)
    customer = await by_ref(client, actors.head_east, "salesforce", account_id)
    assert customer is not None and customer["owner_id"] == actors.am_east.id
    assert customer["contacts"][0]["emails"][0]["address"] == email
    assert customer["contacts"][0]["phones"][0]["number"] == "+8613912345678"


async def test_gb18030_and_bom_files_with_an_explicit_mapping(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    mapping = '{"公司名称": "name", "信用代码": "credit_code", "联系人": "contact_name", ' \
              '"手机": "contact_phone", "编号": "external_id"}'
    for encoding, bom in (("gb18030", False), ("utf-8", True)):
        name, code, ref = unique("广州珠江啤酒集团"), credit_code(), zoho_id()
        data = csv_bytes([["编号", "公司名称", "信用代码", "联系人", "手机", "备注"],
                          [ref, name, code, "陈静", mobile(), "华南重点"]],
                         encoding=encoding, bom=bom)
        job = await imported(client, app, actors.am_east, ("客户.csv", data),
                             mapping=mapping, system="legacy", keep_unknown=True)
        counts(job, read=1, valid=1, created=1)
        customer = await by_ref(client, actors.am_east, "legacy", ref)
        assert customer is not None, encoding
        assert (customer["name"], customer["credit_code"]) == (name, code)
        assert customer["custom_attributes"] == {"备注": "华南重点"}
        assert customer["contacts"][0]["name"] == "陈静"


async def test_every_kind_of_bad_row_is_explained_and_the_rest_imported(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    existing = await make_customer(client, actors.am_east, credit_code=credit_code(),
                                   contacts=[{"name": "甲", "phones": [{"number": mobile()}]}])
    taken_phone = existing["contacts"][0]["phones"][0]["number"]
    same = credit_code()
    me = actors.am_east.username
    header = ["编号", "公司名称", "信用代码", "负责人", "联系人", "手机", "邮箱", "年营业额"]
    rows = [header,
            [zoho_id(), unique("好客户"), credit_code(), me, "甲", mobile(), "", "100"],  # 2
            [zoho_id(), unique("校验位"), credit_code("0")[:-1] + "X", me, "", "", "", ""],  # 3
            [zoho_id(), unique("坏手机"), "", me, "乙", "12345", "", ""],  # 4
            [zoho_id(), unique("坏邮箱"), "", me, "丙", "", "not-an-email", ""],  # 5
            [zoho_id(), unique("无此人"), "", "nobody-here", "", "", "", ""],  # 6
            [zoho_id(), unique("越权"), "", actors.am_west.username, "", "", "", ""],  # 7
            [zoho_id(), unique("文件内一"), same, me, "", "", "", ""],  # 8
            [zoho_id(), unique("文件内二"), same, me, "", "", "", ""],  # 9
            [zoho_id(), unique("库内重复"), "", me, "丁", taken_phone, "", ""],  # 10
            [zoho_id(), unique("已存在"), existing["credit_code"], me, "", "", "", ""],  # 11
            [zoho_id(), unique("坏金额"), "", me, "", "", "", "一百万"],  # 12
            [zoho_id(), "", "", me, "", "", "", ""]]  # 13
    mapping = '{"编号": "external_id", "公司名称": "name", "信用代码": "credit_code", ' \
              '"负责人": "owner", "联系人": "contact_name", "手机": "contact_phone", ' \
              '"邮箱": "contact_email", "年营业额": "annual_revenue"}'
    job = await imported(client, app, actors.am_east, ("bad.csv", csv_bytes(rows)),
                         mapping=mapping, system="crm")
    assert job["state"] == "completed"
    counts(job, read=12, valid=2, created=2, rejected=10)
    found = {int(r["line"]): r for r in await rejected_rows(client, actors.am_east, job["id"])}
    assert {line: (r["column"], r["code"]) for line, r in found.items()} == {
        3: ("信用代码", "credit_code_checksum"),
        4: ("手机", "phone_invalid"),
        5: ("邮箱", "email_invalid"),
        6: ("负责人", "owner_login_unknown"),
        7: ("负责人", "owner_not_allowed"),
        9: ("信用代码", "duplicate_in_file"),
        10: ("手机", "duplicate_customer"),
        11: ("信用代码", "customer_exists"),
        12: ("年营业额", "number_invalid"),
        13: ("公司名称", "missing"),
    }
    assert "line 8" in found[9]["reason_en"] and "第 8 行" in found[9]["reason_zh"]
    assert existing["name"] in found[10]["reason_en"]
    for row in found.values():
        assert row["reason_en"].isascii() or row["code"] in ("duplicate_customer",
                                                             "owner_login_unknown")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in row["reason_zh"]), row


async def test_upsert_of_the_same_file_twice_changes_nothing_the_second_time(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    refs = [zoho_id() for _ in range(3)]
    data = csv_bytes([ZOHO_ACCOUNTS] + [
        [f"zcrm_{r}", actors.am_east.username, unique("幂等客户"), "", "", "制造业", "", "",
         "苏州市", "江苏省", "", "", "", "", ""] for r in refs])
    first = await imported(client, app, actors.am_east, ("a.csv", data), preset="zoho",
                           mode="upsert")
    counts(first, read=3, valid=3, created=3)
    before = [await by_ref(client, actors.am_east, "zoho", r) for r in refs]
    second = await imported(client, app, actors.am_east, ("a.csv", data), preset="zoho",
                            mode="upsert")
    counts(second, read=3, valid=3, unchanged=3)
    assert [await by_ref(client, actors.am_east, "zoho", r) for r in refs] == before
    changed = data.replace("制造业".encode(), "汽车制造".encode(), 1)
    third = await imported(client, app, actors.am_east, ("a.csv", changed), preset="zoho",
                           mode="upsert")
    counts(third, read=3, valid=3, updated=1, unchanged=2)
    customer = await by_ref(client, actors.am_east, "zoho", refs[0])
    assert customer is not None and customer["industry"] == "汽车制造"
    assert customer["version"] == 2
    # update mode refuses a row that names no customer; create mode one that exists
    unknown = csv_bytes([ZOHO_ACCOUNTS, [f"zcrm_{zoho_id()}", "", "新的"] + [""] * 12])
    job = await imported(client, app, actors.am_east, ("u.csv", unknown), preset="zoho",
                         mode="update")
    assert [r["code"] for r in await rejected_rows(client, actors.am_east, job["id"])] == [
        "not_found"]
    job = await imported(client, app, actors.am_east, ("a.csv", data), preset="zoho")
    counts(job, read=3, rejected=3)


async def test_record_scope_bounds_what_an_import_may_write(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    ref = zoho_id()
    data = csv_bytes([ZOHO_ACCOUNTS, [f"zcrm_{ref}", actors.am_east.username,
                                      unique("华东客户")] + [""] * 12])
    await imported(client, app, actors.am_east, ("a.csv", data), preset="zoho")
    east = await by_ref(client, actors.am_east, "zoho", ref)
    assert east is not None
    renamed = data.replace("华东客户".encode(), "改名".encode())
    job = await imported(client, app, actors.am_west, ("a.csv", renamed), preset="zoho",
                         mode="upsert")
    counts(job, read=1, rejected=1)
    assert [r["code"] for r in await rejected_rows(client, actors.am_west, job["id"])] == [
        "not_found"]
    assert (await by_ref(client, actors.am_east, "zoho", ref)) == east
    # others do not see the job; roles that write no customer may not import
    hidden = await client.get(f"{IMPORTS}/{job['id']}", headers=actors.am_east.headers)
    assert_problem(hidden, 404, "not_found")
    refused = await client.post(IMPORTS, headers=actors.analyst.headers,
                                files={"file": ("a.csv", data)}, data={"preset": "zoho"})
    assert_problem(refused, 403, "forbidden")
    assert (await read_job(client, actors.admin, job["id"]))["id"] == job["id"]


async def test_a_dry_run_reports_without_writing(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    refs = [zoho_id(), zoho_id()]
    same = credit_code()
    data = csv_bytes([["id", "name", "code"]] + [[r, unique("试运行"), same] for r in refs])
    job = await imported(client, app, actors.am_east, ("d.csv", data), dry_run=True,
                         mapping='{"id": "external_id", "name": "name", "code": "credit_code"}',
                         system="zoho")
    counts(job, read=2, valid=1, created=1, rejected=1)
    assert job["dry_run"] is True
    assert [await by_ref(client, actors.admin, "zoho", r) for r in refs] == [None, None]
    assert [r["code"] for r in await rejected_rows(client, actors.am_east, job["id"])] == [
        "duplicate_in_file"]


async def test_a_request_that_cannot_start_is_refused_before_queueing(
        client: httpx.AsyncClient, actors: Actors) -> None:
    data = csv_bytes([["a"], ["b"]])
    for form, pointer in (({}, "/mapping"), ({"preset": "hubspot"}, "/preset"),
                          ({"mapping": '{"a": "nonsense"}'}, "/mapping"),
                          ({"mapping": "not json"}, "/mapping"),
                          ({"preset": "zoho", "default_owner": "nobody"}, "/default_owner")):
        response = await client.post(IMPORTS, headers=actors.am_east.headers,
                                     files={"file": ("a.csv", data)}, data=form)
        problem = assert_problem(response, 422, "validation_failed")
        assert [e["pointer"] for e in problem["errors"]] == [pointer], form


async def test_rows_without_an_owner_go_to_the_default_owner(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    ref = zoho_id()
    data = csv_bytes([["编号", "公司名称"], [ref, unique("默认负责人")]])
    job = await imported(client, app, actors.head_east, ("o.csv", data),
                         mapping='{"编号": "external_id", "公司名称": "name"}', system="crm",
                         default_owner=f"{actors.am_east2.username}@example.cn")
    assert job["counts"]["created"] == 1, job["error"]
    customer = await by_ref(client, actors.head_east, "crm", ref)
    assert customer is not None and customer["owner_id"] == actors.am_east2.id
