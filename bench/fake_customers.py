"""Customers as the app would store them, generated fast and deterministically.

Every value goes through the app's own rules: phones and e-mails through the domain's
validation (E.164, normalised addresses), the value score and tier through
``value_score``/``tier_for`` under the default tier policy, the integrity score through
``evaluate`` under the default integrity policy, and the searched text through the
repository's ``search_text``. Names are Faker zh_CN (seeded per chunk, so a chunk is the
same whichever process builds it). Phones and e-mails carry the contact's global number,
so they never collide (the app would refuse a duplicate without ``force_reason``).

A chunk is returned as COPY-ready tuples per table, in the tables' column order.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID, uuid4

from faker import Faker
from faker.providers.address.zh_CN import Provider as AddressProvider
from faker.providers.company.zh_CN import Provider as CompanyProvider

from app.demo import INDUSTRIES, TAGS, credit_code
from app.domain.customers import validation
from app.domain.customers.classification import TierPolicy, tier_for, value_score
from app.domain.customers.integrity import IntegrityPolicy, evaluate
from app.domain.customers.model import (
    Contact,
    ContactChannel,
    Customer,
    CustomerKind,
    Email,
    Phone,
    Stage,
    Tier,
)
from app.domain.customers.needs import DEFAULT_NEEDS
from app.repositories.customers import search_text
from app.repositories.tables_customers import contact_points, contacts, customers

CUSTOMER_COLUMNS = [c.name for c in customers.columns]
CONTACT_COLUMNS = [c.name for c in contacts.columns]
POINT_COLUMNS = [c.name for c in contact_points.columns if c.name != "id"]  # sequence
TAG_COLUMNS = ["customer_id", "tag"]
REF_COLUMNS = ["system", "external_id", "customer_id"]
JSON_COLUMNS = {"tags", "needs", "custom_attributes", "external_refs", "phones", "emails"}

MOBILE_PREFIXES = ["130", "131", "132", "135", "136", "137", "138", "139", "150", "151",
                   "152", "155", "156", "157", "158", "159", "176", "177", "180", "181",
                   "182", "185", "186", "187", "188", "189", "198", "199"]
MAIL_DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "aliyun.com", "foxmail.com"]
CITIES = list(AddressProvider.cities)
COMPANY_PREFIXES = list(CompanyProvider.company_prefixes)
COMPANY_SUFFIXES = list(CompanyProvider.company_suffixes)
# Three-character search terms: the tail of a four-character trade name (字号), each in
# about 1.5 % of the customers (the report states the exact counts).
SEARCH_TERMS = ["博腾飞", "联世纪", "聪百汇", "泰通安", "睿思博", "方峻景"]
STAGES = [Stage.PROSPECT, Stage.ONBOARDING, Stage.ACTIVE, Stage.ACTIVE, Stage.AT_RISK]
MAX_CONTACTS = 3
TIER_POLICY = TierPolicy()
INTEGRITY_POLICY = IntegrityPolicy()


@dataclass(frozen=True)
class ChunkSpec:
    seed: int
    first: int  # global number of the chunk's first customer
    count: int
    owners: list[tuple[UUID, UUID]]  # (account manager, their department)
    reference: datetime  # "now" of the data set; records are up to two years older


@dataclass
class Chunk:
    customers: list[tuple[Any, ...]]
    contacts: list[tuple[Any, ...]]
    contact_points: list[tuple[Any, ...]]
    customer_tags: list[tuple[Any, ...]]
    customer_external_refs: list[tuple[Any, ...]]


def _plain(column: str, value: Any) -> Any:
    if column in JSON_COLUMNS:
        return json.dumps(value, ensure_ascii=False)
    return value.value if isinstance(value, Enum) else value


def _company_name(fake: Faker, rng: random.Random) -> str:
    second = rng.choice(COMPANY_PREFIXES) if rng.random() < 0.5 else ""
    return (f"{rng.choice(CITIES)}{rng.choice(COMPANY_PREFIXES)}{second}"
            f"{rng.choice(COMPANY_SUFFIXES)}")


def _contacts(fake: Faker, rng: random.Random, customer_id: UUID, number: int,
              at: datetime) -> list[Contact]:
    result = []
    for i in range(rng.randint(1, MAX_CONTACTS)):
        serial = number * MAX_CONTACTS + i  # unique over the whole data set
        raw_phone = f"{rng.choice(MOBILE_PREFIXES)}{(serial * 7919 + 10007) % 10**8:08d}"
        raw_email = f"{fake.user_name()}.{serial}@{rng.choice(MAIL_DOMAINS)}"
        result.append(Contact(
            id=uuid4(), customer_id=customer_id, name=fake.name(), title=fake.job()[:100],
            phones=[Phone(validation.phone(raw_phone, "/phone"), rng.random() < 0.6)],
            emails=[Email(validation.email(raw_email, "/email"), rng.random() < 0.4)],
            im_handle=f"wx_{serial}" if rng.random() < 0.3 else "",
            preferred_channel=rng.choice(list(ContactChannel)), is_primary=i == 0, version=1,
            created_at=at, updated_at=at))
    return result


def _customer(fake: Faker, rng: random.Random, number: int, spec: ChunkSpec) -> Customer:
    customer_id = uuid4()
    company = rng.random() < 0.85
    age = rng.uniform(2 * 86400, 730 * 86400)  # seconds before the reference time
    created = spec.reference - timedelta(seconds=age)
    edits = rng.choice([0, 0, 0, 1, 1, 2, 4])
    updated = created + timedelta(seconds=rng.uniform(0, min(age, 90 * 86400) - 86400)) \
        if edits else created
    owner_id, department_id = rng.choice(spec.owners)
    revenue = Decimal(rng.randrange(50_000, 8_000_000))
    strategic, growth = rng.randint(1, 5), rng.randint(1, 5)
    score = value_score(revenue, strategic, growth, TIER_POLICY)
    manual = rng.random() < 0.01
    customer = Customer(
        id=customer_id, name=_company_name(fake, rng) if company else fake.name(),
        kind=CustomerKind.COMPANY if company else CustomerKind.INDIVIDUAL,
        credit_code=validation.credit_code(credit_code(rng)) if company else None,
        industry=rng.choice(INDUSTRIES), region=f"{fake.province()}{rng.choice(CITIES)}市",
        address=f"{fake.province()}{rng.choice(CITIES)}市{fake.street_address()}"
        if rng.random() < 0.9 else "",
        owner_id=owner_id, department_id=department_id,
        shared_with_department=rng.random() < 0.3,
        tags=sorted(set(rng.sample(TAGS, rng.randint(0, 2)))),
        needs=sorted(rng.sample(sorted(DEFAULT_NEEDS), rng.randint(0, 3))),
        preferred_channel=rng.choice(list(ContactChannel)) if rng.random() < 0.8 else None,
        preferred_time="工作日 14:00–17:00", custom_attributes={},
        external_refs={"zoho": f"4150868{number:012d}"} if rng.random() < 0.3 else {},
        annual_revenue=revenue, currency="CNY", strategic_importance=strategic,
        growth_potential=growth, value_score=score, tier_computed=tier_for(score, TIER_POLICY),
        tier_manual=Tier.A if manual else None, tier_manual_reason="战略合作" if manual else None,
        stage=rng.choice(STAGES), churn_reason=None, churn_note=None, integrity_score=0,
        version=1 + edits, created_at=created, updated_at=updated)
    customer.contacts = _contacts(fake, rng, customer_id, number, created)
    if rng.random() < 0.02:  # archived: one more version, at the archiving time
        customer.archived_at = customer.updated_at = updated + timedelta(days=1)
        customer.version += 1
    customer.integrity_score = evaluate(customer, INTEGRITY_POLICY).percent
    return customer


def _row(customer: Customer) -> tuple[Any, ...]:
    """What ``SqlCustomerRepository.add`` writes: the fields, the effective tier, and the
    search text."""
    values = {**customer.__dict__, "tier": customer.tier, "search_text": search_text(customer)}
    return tuple(_plain(c, values[c]) for c in CUSTOMER_COLUMNS)


def _contact_row(contact: Contact) -> tuple[Any, ...]:
    values = {**contact.__dict__,
              "phones": [{"number": p.number, "verified": p.verified} for p in contact.phones],
              "emails": [{"address": e.address, "verified": e.verified}
                         for e in contact.emails]}
    return tuple(_plain(c, values[c]) for c in CONTACT_COLUMNS)


def generate(spec: ChunkSpec) -> Chunk:
    fake = Faker("zh_CN")
    fake.seed_instance(spec.seed * 1_000_003 + spec.first)
    rng = random.Random(spec.seed * 1_000_003 + spec.first)  # noqa: S311 - test data
    chunk = Chunk([], [], [], [], [])
    for number in range(spec.first, spec.first + spec.count):
        customer = _customer(fake, rng, number, spec)
        chunk.customers.append(_row(customer))
        chunk.customer_tags += [(customer.id, t) for t in customer.tags]
        chunk.customer_external_refs += [(s, i, customer.id)
                                         for s, i in customer.external_refs.items()]
        for contact in customer.contacts:
            chunk.contacts.append(_contact_row(contact))
            chunk.contact_points += [("phone", p.number, customer.id, contact.id)
                                     for p in contact.phones]
            chunk.contact_points += [("email", e.address.lower(), customer.id, contact.id)
                                     for e in contact.emails]
    return chunk
