"""Request and response bodies of the customer archive and customer health."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import ConfigDict, Field, field_validator

from app.api.v1.schemas.base import Amount, Input, Output, output_of
from app.domain.customers.classification import TierPolicy
from app.domain.customers.integrity import Requirement
from app.domain.customers.model import ChurnReason, ContactChannel, CustomerKind, Stage, Tier
from app.services.ports.customers import HistoryEntry, TimelineEntry

Short = Annotated[str, Field(max_length=100)]
Tag = Annotated[str, Field(min_length=1, max_length=50)]
Scale = Annotated[int, Field(ge=1, le=5)]
SystemName = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
ExternalId = Annotated[str, Field(min_length=1, max_length=128)]


class PhoneIn(Input):
    number: str = Field(min_length=3, max_length=40, examples=["138 0013 8000"])
    verified: bool = False


class EmailIn(Input):
    address: str = Field(min_length=3, max_length=254, examples=["li.na@huawei-demo.cn"])
    verified: bool = False


class ContactIn(Input):
    name: str = Field(min_length=1, max_length=100, examples=["李娜"])
    title: Short = ""
    phones: list[PhoneIn] = Field(default_factory=list, max_length=10)
    emails: list[EmailIn] = Field(default_factory=list, max_length=10)
    im_handle: Short = ""
    preferred_channel: ContactChannel | None = None
    is_primary: bool = False


class ContactPatch(Input):
    name: str = Field(None, min_length=1, max_length=100)  # type: ignore[assignment]
    title: Short = Field(None)  # type: ignore[assignment]
    phones: list[PhoneIn] = Field(None, max_length=10)  # type: ignore[assignment]
    emails: list[EmailIn] = Field(None, max_length=10)  # type: ignore[assignment]
    im_handle: Short = Field(None)  # type: ignore[assignment]
    preferred_channel: ContactChannel | None = None
    is_primary: bool = Field(None)  # type: ignore[assignment]


class ContactAdd(ContactIn):
    force_reason: str | None = Field(None, max_length=500, description=(
        "Add even though a phone or e-mail already belongs to another customer"))


class CustomerFields(Input):
    """Fields a person sets; server-owned ones (owner, tier, score, stage, version, dates)
    have their own endpoints or are computed."""

    name: str = Field(min_length=1, max_length=200, examples=["深圳市华为技术有限公司"])
    kind: CustomerKind = CustomerKind.COMPANY
    credit_code: str | None = Field(None, max_length=40, examples=["91440300279583285M"],
                                    description="统一社会信用代码 (companies only)")
    industry: Short = ""
    region: Short = ""
    address: str = Field("", max_length=500)
    shared_with_department: bool = False
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    needs: list[Tag] = Field(default_factory=list, max_length=50)
    preferred_channel: ContactChannel | None = None
    preferred_time: Short = Field("", examples=["工作日 14:00–17:00"])
    custom_attributes: dict[str, Any] = Field(default_factory=dict)
    external_refs: dict[SystemName, ExternalId] = Field(
        default_factory=dict, examples=[{"zoho": "4150868000001234567", "fxiaoke": "FX-88231"}])
    annual_revenue: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    strategic_importance: Scale | None = None
    growth_potential: Scale | None = None

    @field_validator("custom_attributes")
    @classmethod
    def _small_attributes(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > 50 or len(str(value)) > 10_000:
            raise ValueError("at most 50 attributes and 10,000 characters")
        return value

    @field_validator("external_refs")
    @classmethod
    def _few_refs(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 20:
            raise ValueError("at most 20 external systems")
        return value


class CustomerCreate(CustomerFields):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "深圳市华为技术有限公司", "kind": "company",
        "credit_code": "91440300279583285M", "industry": "通信设备", "region": "广东省深圳市",
        "address": "深圳市龙岗区坂田华为基地", "tags": ["战略客户"],
        "needs": ["digital_transformation"], "preferred_channel": "wechat",
        "annual_revenue": "3200000.00", "strategic_importance": 5, "growth_potential": 4,
        "external_refs": {"zoho": "4150868000001234567"},
        "contacts": [{"name": "李娜", "title": "采购总监",
                      "phones": [{"number": "138 0013 8000", "verified": True}],
                      "emails": [{"address": "li.na@example.cn"}], "is_primary": True}]}]})

    owner_id: UUID | None = Field(None, description=(
        "The account manager who will own the customer (an active one, within your "
        "scope). Left out, it is you, if you are an account manager; **required** for an "
        "admin, a department head who is not an account manager, or an API key (422 "
        "`validation_failed`, `/owner_id` missing)."))
    stage: Stage = Stage.PROSPECT
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)
    force_reason: str | None = Field(None, max_length=500, description=(
        "Create even though the credit code, a phone or an e-mail already belongs to "
        "another customer; the reason is kept in the history"))


class CustomerPatch(CustomerFields):
    """Only the fields sent change (JSON merge semantics for the top level)."""

    name: str = Field(None, min_length=1, max_length=200)  # type: ignore[assignment]
    force_reason: str | None = Field(None, max_length=500)


class StageChange(Input):
    stage: Stage
    churn_reason: ChurnReason | None = None
    churn_note: str | None = Field(None, max_length=2000)


class TierOverride(Input):
    tier: Tier | None = Field(description="null returns to the computed tier")
    reason: str | None = Field(None, max_length=500)


class MergeRequest(Input):
    source_id: UUID
    source_version: int = Field(ge=1, description="The ETag version of the source you read")


class PhoneOut(Output):
    number: str
    verified: bool


class EmailOut(Output):
    address: str
    verified: bool


class ContactOut(Output):
    id: UUID
    name: str
    title: str
    phones: list[PhoneOut]
    emails: list[EmailOut]
    im_handle: str
    preferred_channel: ContactChannel | None
    is_primary: bool
    erased_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class TierOut(Output):
    effective: Tier
    computed: Tier
    manual: Tier | None
    manual_reason: str | None
    value_score: Decimal


class CustomerSummary(Output):
    id: UUID
    name: str
    kind: CustomerKind
    credit_code: str | None
    industry: str
    region: str
    owner_id: UUID
    department_id: UUID
    tags: list[str]
    tier: TierOut
    stage: Stage
    integrity_score: int
    archived: bool
    version: int
    created_at: datetime
    updated_at: datetime


class CustomerOut(CustomerSummary):
    address: str
    shared_with_department: bool
    needs: list[str]
    preferred_channel: ContactChannel | None
    preferred_time: str
    custom_attributes: dict[str, Any]
    external_refs: dict[str, str]
    annual_revenue: Amount | None
    currency: str
    strategic_importance: int | None
    growth_potential: int | None
    churn_reason: ChurnReason | None
    churn_note: str | None
    merged_into: UUID | None
    contacts: list[ContactOut]
    allowed_stages: list[Stage] = Field(description="Stages this customer may move to now")


class IntegrityItemOut(Output):
    requirement: Requirement
    satisfied: bool


class IntegrityOut(Output):
    tier: Tier
    percent: int
    missing: list[Requirement]
    items: list[IntegrityItemOut]


HistoryOut = output_of(HistoryEntry, "HistoryOut")
TimelineOut = output_of(TimelineEntry, "TimelineOut")


class TierPolicyIn(Input):
    revenue_full_at: Decimal = Field(gt=0, description="Revenue that earns the full share")
    weight_revenue: Decimal = Field(ge=0, le=1)
    weight_strategic: Decimal = Field(ge=0, le=1)
    weight_growth: Decimal = Field(ge=0, le=1)
    threshold_a: Decimal = Field(gt=0, le=100)
    threshold_b: Decimal = Field(gt=0, le=100)
    threshold_c: Decimal = Field(gt=0, le=100)

    def to_domain(self) -> TierPolicy:
        return TierPolicy(**self.model_dump())


class TierPolicyOut(TierPolicyIn):
    version: int


class IntegrityPolicyIn(Input):
    requirements: dict[Tier, list[Requirement]]


class IntegrityPolicyOut(IntegrityPolicyIn):
    version: int


class NeedsVocabularyIn(Input):
    terms: dict[Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_]*$")],
                Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        examples=[{"digital_transformation": "数字化转型", "compliance": "合规"}])


class NeedsVocabularyOut(NeedsVocabularyIn):
    version: int


class FactorOut(Output):
    name: str
    raw: float | None
    points: float
    missing: bool


class HealthOut(Output):
    customer_id: UUID
    score: float
    threshold: float
    suggest_at_risk: bool
    factors: list[FactorOut]


class HealthPolicyIO(Input):
    baseline: float = Field(ge=0, le=100)
    satisfaction_weight: float = Field(ge=0, le=100)
    trend_per_point: float = Field(ge=0, le=10)
    trend_cap: float = Field(ge=0, le=100)
    complaint_points: float = Field(ge=0, le=100)
    complaint_cap: float = Field(ge=0, le=100)
    breach_points: float = Field(ge=0, le=100)
    breach_cap: float = Field(ge=0, le=100)
    contact_grace_days: int = Field(ge=0, le=3650)
    contact_points_per_day: float = Field(ge=0, le=100)
    contact_cap: float = Field(ge=0, le=100)
    risk_points: float = Field(ge=0, le=100)
    risk_cap: float = Field(ge=0, le=100)
    threshold: float = Field(ge=0, le=100)


class HealthPolicyOut(HealthPolicyIO):
    version: int
