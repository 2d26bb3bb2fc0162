"""The customer archive: customers, their contacts, and the values they carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID


class CustomerKind(StrEnum):
    COMPANY = "company"
    INDIVIDUAL = "individual"


class Tier(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Stage(StrEnum):
    PROSPECT = "prospect"
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    AT_RISK = "at_risk"
    CHURNED = "churned"


class ChurnReason(StrEnum):
    """流失原因: the fixed list a churn must name (free text goes alongside)."""

    PRICE = "price"  # 价格
    COMPETITOR = "competitor"  # 转向竞争对手
    SERVICE_QUALITY = "service_quality"  # 服务质量
    PRODUCT_FIT = "product_fit"  # 产品不匹配
    BUDGET_CUT = "budget_cut"  # 预算削减
    BUSINESS_CLOSED = "business_closed"  # 客户停业
    RELATIONSHIP = "relationship"  # 关系流失
    OTHER = "other"  # 其他


class ContactChannel(StrEnum):
    """How Accord reaches a customer or contact: a preferred channel, a change request's
    communication, a handover notification or follow-up. Not ``FeedbackChannel``, which
    says where feedback arrived."""

    PHONE = "phone"
    EMAIL = "email"
    WECHAT = "wechat"
    SMS = "sms"
    VISIT = "visit"
    IM = "im"


@dataclass(frozen=True)
class Phone:
    number: str  # E.164
    verified: bool = False


@dataclass(frozen=True)
class Email:
    address: str
    verified: bool = False


@dataclass
class Contact:
    id: UUID
    customer_id: UUID
    name: str
    title: str
    phones: list[Phone]
    emails: list[Email]
    im_handle: str
    preferred_channel: ContactChannel | None
    is_primary: bool
    version: int
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None = None

    @property
    def has_verified_reach(self) -> bool:
        return any(p.verified for p in self.phones) or any(e.verified for e in self.emails)

    def snapshot(self) -> dict[str, Any]:
        """Field values as kept in the customer's history (redactable on erasure)."""
        return {
            "name": self.name, "title": self.title,
            "phones": [{"number": p.number, "verified": p.verified} for p in self.phones],
            "emails": [{"address": e.address, "verified": e.verified} for e in self.emails],
            "im_handle": self.im_handle,
            "preferred_channel": self.preferred_channel,
            "is_primary": self.is_primary,
        }


@dataclass
class Customer:
    id: UUID
    name: str
    kind: CustomerKind
    credit_code: str | None
    industry: str
    region: str
    address: str
    owner_id: UUID
    department_id: UUID
    shared_with_department: bool
    tags: list[str]
    needs: list[str]
    preferred_channel: ContactChannel | None
    preferred_time: str
    custom_attributes: dict[str, Any]
    external_refs: dict[str, str]
    annual_revenue: Decimal | None
    currency: str
    strategic_importance: int | None
    growth_potential: int | None
    value_score: Decimal
    tier_computed: Tier
    tier_manual: Tier | None
    tier_manual_reason: str | None
    stage: Stage
    churn_reason: ChurnReason | None
    churn_note: str | None
    integrity_score: int
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None
    merged_into: UUID | None = None
    contacts: list[Contact] = field(default_factory=list)

    def live_contacts(self) -> list[Contact]:
        """The contacts whose personal data has not been erased."""
        return [c for c in self.contacts if c.erased_at is None]

    def has_live_contact(self, contact_id: UUID | None) -> bool:
        return any(c.id == contact_id for c in self.live_contacts())

    @property
    def tier(self) -> Tier:
        """The effective tier: a manual override wins, the computed one stays visible."""
        return self.tier_manual or self.tier_computed

    def snapshot(self) -> dict[str, Any]:
        """Every field a person can change, as JSON values, for history and audit."""
        return {
            "name": self.name, "kind": self.kind, "credit_code": self.credit_code,
            "industry": self.industry, "region": self.region, "address": self.address,
            "owner_id": str(self.owner_id), "department_id": str(self.department_id),
            "shared_with_department": self.shared_with_department,
            "tags": list(self.tags), "needs": list(self.needs),
            "preferred_channel": self.preferred_channel, "preferred_time": self.preferred_time,
            "custom_attributes": dict(self.custom_attributes),
            "external_refs": dict(self.external_refs),
            "annual_revenue": None if self.annual_revenue is None else str(self.annual_revenue),
            "currency": self.currency,
            "strategic_importance": self.strategic_importance,
            "growth_potential": self.growth_potential,
            "value_score": str(self.value_score), "tier_computed": self.tier_computed,
            "tier_manual": self.tier_manual, "tier_manual_reason": self.tier_manual_reason,
            "stage": self.stage, "churn_reason": self.churn_reason, "churn_note": self.churn_note,
            "archived": self.archived_at is not None,
        }
