"""Column presets: how the export files of other CRMs map onto Accord's fields.

Each preset names the columns it reads (anything else is an *unknown* column: ignored, or
kept in ``custom_attributes`` when the job asks). An accounts file makes customers; a
contacts file, when given, adds contacts to the customers its rows point at.

- ``zoho`` — Zoho CRM module export (Accounts, Contacts). Record ids are exported as
  ``zcrm_<id>``; the prefix is dropped, so ``zoho:<id>`` matches the CRM's API ids.
  Accounts: Record Id, Account Name, Account Owner (e-mail), Industry, Billing State,
  Billing City, Billing Street, Annual Revenue, Tag. Contacts: First Name, Last Name,
  Title, Email, Phone, Mobile, Account Name (the account's name) or Account Name.id.
- ``fxiaoke`` — 纷享销客 object export (客户, 联系人), usually XLSX. 客户: 客户编号,
  客户名称, 统一社会信用代码, 负责人 (username or e-mail), 行业, 省份, 城市, 详细地址,
  标签. 联系人: 姓名, 客户名称, 职务, 手机, 电话, 邮箱, 微信.
- ``salesforce`` — Salesforce Data Loader / Data Export (Account.csv, Contact.csv),
  every field quoted. Account: Id, Name, Owner.Email, Industry, BillingState, BillingCity,
  BillingStreet, AnnualRevenue. Contact: AccountId, FirstName, LastName, Title, Email,
  Phone, MobilePhone.
- ``accord`` — Accord's own customer export (``POST /exports``), so that an export
  re-imported in ``upsert`` mode changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# What a column may map to. Contact targets describe one contact per row (an accounts
# row's primary contact, or a contacts-file row); ``account_*`` link a contacts-file row.
CUSTOMER_TARGETS = frozenset({
    "id", "name", "kind", "credit_code", "industry", "region", "address", "owner",
    "external_id", "annual_revenue", "currency", "tags", "needs", "preferred_channel",
    "preferred_time", "strategic_importance", "growth_potential", "shared_with_department",
    "custom_attributes", "external_refs", "contacts"})
CONTACT_TARGETS = frozenset({
    "contact_name", "contact_first_name", "contact_last_name", "contact_title",
    "contact_phone", "contact_email", "contact_im"})
LINK_TARGETS = frozenset({"account_external_id", "account_name"})
TARGETS = CUSTOMER_TARGETS | CONTACT_TARGETS | LINK_TARGETS
# Targets that several columns may feed: text is joined, lists are collected.
JOINED = frozenset({"region", "address"})
COLLECTED = frozenset({"contact_phone", "contact_email", "tags"})


@dataclass(frozen=True)
class Preset:
    name: str
    system: str | None  # the external system whose ids the files carry
    accounts: dict[str, str]
    contacts: dict[str, str] = field(default_factory=dict)
    id_prefix: str = ""


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("zoho", "zoho", {
        "Record Id": "external_id", "Account Name": "name", "Account Owner": "owner",
        "Industry": "industry", "Billing State": "region", "Billing City": "region",
        "Billing Street": "address", "Annual Revenue": "annual_revenue", "Tag": "tags",
    }, {
        "First Name": "contact_first_name", "Last Name": "contact_last_name",
        "Title": "contact_title", "Email": "contact_email", "Phone": "contact_phone",
        "Mobile": "contact_phone", "Account Name": "account_name",
        "Account Name.id": "account_external_id",
    }, id_prefix="zcrm_"),
    Preset("fxiaoke", "fxiaoke", {
        "客户编号": "external_id", "客户名称": "name", "统一社会信用代码": "credit_code",
        "负责人": "owner", "行业": "industry", "省份": "region", "城市": "region",
        "详细地址": "address", "标签": "tags",
    }, {
        "姓名": "contact_name", "客户名称": "account_name", "职务": "contact_title",
        "手机": "contact_phone", "电话": "contact_phone", "邮箱": "contact_email",
        "微信": "contact_im",
    }),
    Preset("salesforce", "salesforce", {
        "Id": "external_id", "Name": "name", "Owner.Email": "owner", "Industry": "industry",
        "BillingState": "region", "BillingCity": "region", "BillingStreet": "address",
        "AnnualRevenue": "annual_revenue",
    }, {
        "AccountId": "account_external_id", "FirstName": "contact_first_name",
        "LastName": "contact_last_name", "Title": "contact_title", "Email": "contact_email",
        "Phone": "contact_phone", "MobilePhone": "contact_phone",
    }),
    Preset("accord", None, {name: name for name in (
        "id", "name", "kind", "credit_code", "industry", "region", "address", "owner",
        "annual_revenue", "currency", "tags", "needs", "preferred_channel", "preferred_time",
        "strategic_importance", "growth_potential", "shared_with_department",
        "custom_attributes", "external_refs", "contacts")}),
)}

# The columns of Accord's customer export, in order (the ``accord`` preset reads them).
EXPORT_COLUMNS = (*PRESETS["accord"].accounts, "tier", "stage", "integrity_score",
                  "created_at", "updated_at")
