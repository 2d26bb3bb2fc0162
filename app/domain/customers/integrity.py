"""信息完整性: which fields a customer of each tier must have, and how complete it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.domain.common.errors import FieldError, InvalidInput
from app.domain.customers.model import Customer, CustomerKind, Tier


class Requirement(StrEnum):
    CREDIT_CODE = "credit_code"  # companies only
    INDUSTRY = "industry"
    REGION = "region"
    ADDRESS = "address"
    PREFERRED_CHANNEL = "preferred_channel"
    PRIMARY_CONTACT = "primary_contact"
    PRIMARY_CONTACT_VERIFIED = "primary_contact_verified"
    TWO_CONTACTS = "two_contacts"
    CONTACTS_REACHABLE = "contacts_reachable"


def _primary(c: Customer) -> Any:
    return next((x for x in c.live_contacts() if x.is_primary), None)


_CHECKS: dict[Requirement, Callable[[Customer], bool]] = {
    Requirement.CREDIT_CODE: lambda c: bool(c.credit_code),
    Requirement.INDUSTRY: lambda c: bool(c.industry.strip()),
    Requirement.REGION: lambda c: bool(c.region.strip()),
    Requirement.ADDRESS: lambda c: bool(c.address.strip()),
    Requirement.PREFERRED_CHANNEL: lambda c: c.preferred_channel is not None,
    Requirement.PRIMARY_CONTACT: lambda c: _primary(c) is not None,
    Requirement.PRIMARY_CONTACT_VERIFIED: lambda c: bool(_primary(c)
                                                         and _primary(c).has_verified_reach),
    Requirement.TWO_CONTACTS: lambda c: len(c.live_contacts()) >= 2,
    Requirement.CONTACTS_REACHABLE: lambda c: all(x.phones or x.emails
                                                  for x in c.live_contacts()),
}


def _applies(requirement: Requirement, customer: Customer) -> bool:
    return requirement is not Requirement.CREDIT_CODE or customer.kind is CustomerKind.COMPANY


@dataclass(frozen=True)
class IntegrityPolicy:
    requirements: dict[Tier, tuple[Requirement, ...]] = field(default_factory=lambda: {
        Tier.A: (Requirement.CREDIT_CODE, Requirement.INDUSTRY, Requirement.REGION,
                 Requirement.ADDRESS, Requirement.PREFERRED_CHANNEL, Requirement.PRIMARY_CONTACT,
                 Requirement.PRIMARY_CONTACT_VERIFIED, Requirement.TWO_CONTACTS,
                 Requirement.CONTACTS_REACHABLE),
        Tier.B: (Requirement.CREDIT_CODE, Requirement.INDUSTRY, Requirement.REGION,
                 Requirement.ADDRESS, Requirement.PRIMARY_CONTACT,
                 Requirement.CONTACTS_REACHABLE),
        Tier.C: (Requirement.INDUSTRY, Requirement.REGION, Requirement.PRIMARY_CONTACT),
        Tier.D: (Requirement.PRIMARY_CONTACT,),
    })

    def __post_init__(self) -> None:
        missing = [t for t in Tier if t not in self.requirements]
        if missing:
            raise InvalidInput([FieldError(f"/requirements/{t}", "missing") for t in missing])

    def to_dict(self) -> dict[str, Any]:
        return {"requirements": {t.value: [r.value for r in reqs]
                                 for t, reqs in self.requirements.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IntegrityPolicy:
        return cls({Tier(t): tuple(Requirement(r) for r in reqs)
                    for t, reqs in data["requirements"].items()})


@dataclass(frozen=True)
class IntegrityItem:
    requirement: Requirement
    satisfied: bool


@dataclass(frozen=True)
class IntegrityReport:
    tier: Tier
    percent: int
    items: list[IntegrityItem]

    @property
    def missing(self) -> list[Requirement]:
        return [i.requirement for i in self.items if not i.satisfied]


def evaluate(customer: Customer, policy: IntegrityPolicy) -> IntegrityReport:
    """Completeness of the requirements that apply to this customer's effective tier; a
    tier with nothing to check is 100 % complete."""
    items = [IntegrityItem(r, _CHECKS[r](customer))
             for r in policy.requirements[customer.tier] if _applies(r, customer)]
    done = sum(i.satisfied for i in items)
    percent = 100 if not items else (100 * done) // len(items)
    return IntegrityReport(customer.tier, percent, items)
