"""Administrator policies (tier thresholds, integrity requirements, needs vocabulary, the
business calendar …): versioned values in the database, defaults from the domain until an
admin sets one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, Self, TypeVar

from app.domain.common.calendar import BusinessCalendar
from app.domain.common.versions import check_version
from app.domain.customers.classification import TierPolicy
from app.domain.customers.health import HealthPolicy
from app.domain.customers.integrity import IntegrityPolicy
from app.domain.customers.needs import NeedsVocabulary
from app.domain.feedback.sla import SlaPolicy
from app.domain.handovers.standard import HandoverStandard
from app.domain.risk.matrix import RiskMatrix
from app.domain.surveys.model import Automation
from app.services.ports import Clock, RequestContext
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

P = TypeVar("P")


@dataclass(frozen=True)
class PolicyKind(Generic[P]):
    name: str
    default: Callable[[], P]
    load: Callable[[dict[str, Any]], P]
    dump: Callable[[P], dict[str, Any]]


class Stored(Protocol):
    """A policy value that writes itself as JSON data and reads itself back."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...


S = TypeVar("S", bound=Stored)


def stored_as(name: str, value: type[S], default: Callable[[], S] | None = None
              ) -> PolicyKind[S]:
    """The policy ``name`` stored as its value's own ``to_dict``, read with its
    ``from_dict``; until an administrator sets one, ``default()`` (the value type's own
    defaults unless given)."""
    return PolicyKind(name, default or value, value.from_dict, value.to_dict)


TIER_POLICY = stored_as("customer_tier", TierPolicy)
INTEGRITY_POLICY = stored_as("customer_integrity", IntegrityPolicy)
NEEDS_VOCABULARY = stored_as("customer_needs", NeedsVocabulary)
RISK_MATRIX = stored_as("risk_matrix", RiskMatrix, RiskMatrix.default)
BUSINESS_CALENDAR = stored_as("business_calendar", BusinessCalendar)
HANDOVER_STANDARD = stored_as("handover_standard", HandoverStandard)
SURVEY_AUTOMATION = stored_as("survey_automation", Automation)
FEEDBACK_SLA = stored_as("feedback_sla", SlaPolicy)
HEALTH_POLICY = stored_as("customer_health", HealthPolicy)


async def load_policy(uow: UnitOfWork, kind: PolicyKind[P]) -> tuple[P, int]:
    """The policy and its version (0 while the default is in force)."""
    stored = await uow.policies.get(kind.name)
    if stored is None:
        return kind.default(), 0
    return kind.load(stored[0]), stored[1]


async def store_policy(uow: UnitOfWork, kind: PolicyKind[P], policy: P, expected_version: int,
                       actor_id: str | None, now: Any) -> int:
    _, version = await load_policy(uow, kind)
    check_version(version, expected_version)
    before = await uow.policies.get(kind.name)
    await uow.policies.put(kind.name, kind.dump(policy), version + 1, now, actor_id)
    uow.record_change("policy.updated", "policy", kind.name,
                      before=before[0] if before else None, after=kind.dump(policy))
    return version + 1


class PolicySetting(Generic[P]):
    """One administrator setting as use cases: read it with its version, change it against
    the version read (audited in the same transaction). A subclass names its ``kind``, or
    a feature's service holds one for its ``kind`` (``PolicySetting(uow, clock, kind)``)."""

    kind: PolicyKind[P]

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock,
                 kind: PolicyKind[P] | None = None) -> None:
        self._uow = uow
        self._clock = clock
        if kind is not None:
            self.kind = kind

    async def get(self, ctx: RequestContext) -> tuple[P, int]:
        async with self._uow(ctx, write=False) as uow:
            return await load_policy(uow, self.kind)

    async def set(self, ctx: RequestContext, value: P, expected_version: int) -> int:
        async with self._uow(ctx) as uow:
            actor = str(ctx.principal.id) if ctx.principal else None
            version = await store_policy(uow, self.kind, value, expected_version, actor,
                                         self._clock.now())
            await uow.commit()
            return version
