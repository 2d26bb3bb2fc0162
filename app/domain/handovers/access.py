"""Who reaches a handover (issue: the two managers, a head of the customer's department and
administrators); to anyone else it does not exist (404)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.access.roles import Role


@dataclass(frozen=True)
class HandoverReach:
    everything: bool = False
    user_id: UUID | None = None  # handovers where this user hands over or receives
    head_of: UUID | None = None  # and every handover of this department


def reach(principal: Principal) -> HandoverReach:
    if Role.ADMIN in principal.roles:
        return HandoverReach(everything=True)
    head_of = principal.department_id if Role.DEPARTMENT_HEAD in principal.roles else None
    return HandoverReach(user_id=principal.id, head_of=head_of)
