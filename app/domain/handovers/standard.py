"""The handover standard (移交标准): which level a customer's handover follows, and the
follow-up deadlines. Administrators edit the policy; one rule is an invariant of the
product, not a setting: a high or critical handover risk always forces ``strict``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.domain.common.errors import FieldError, InvalidInput
from app.domain.customers.model import Tier
from app.domain.handovers.model import HandoverLevel
from app.domain.risk.matrix import RiskLevel

ORDER = (HandoverLevel.LIGHT, HandoverLevel.STANDARD, HandoverLevel.STRICT)
FORCING_STRICT = frozenset({RiskLevel.HIGH, RiskLevel.CRITICAL})


def _default_tiers() -> dict[Tier, HandoverLevel]:
    return {Tier.A: HandoverLevel.STRICT, Tier.B: HandoverLevel.STANDARD,
            Tier.C: HandoverLevel.LIGHT, Tier.D: HandoverLevel.LIGHT}


def _default_follow_up() -> dict[HandoverLevel, int]:
    return {HandoverLevel.STRICT: 3, HandoverLevel.STANDARD: 7, HandoverLevel.LIGHT: 14}


@dataclass(frozen=True)
class HandoverStandard:
    """``raise_at_open_items`` and ``raise_at_contacts`` measure open work and complexity:
    reaching either lifts the level by one (light → standard → strict)."""

    tier_levels: dict[Tier, HandoverLevel] = field(default_factory=_default_tiers)
    raise_at_open_items: int = 5
    raise_at_contacts: int = 10
    follow_up_working_days: dict[HandoverLevel, int] = field(default_factory=_default_follow_up)
    satisfaction_pulse_days: int = 30

    def __post_init__(self) -> None:
        problems = []
        if set(self.tier_levels) != set(Tier):
            problems.append(FieldError("/tier_levels", "every_tier_needs_a_level"))
        if set(self.follow_up_working_days) != set(HandoverLevel):
            problems.append(FieldError("/follow_up_working_days", "every_level_needs_days"))
        elif not all(1 <= d <= 60 for d in self.follow_up_working_days.values()):
            problems.append(FieldError("/follow_up_working_days", "out_of_range"))
        for name in ("raise_at_open_items", "raise_at_contacts"):
            if not 1 <= getattr(self, name) <= 1000:
                problems.append(FieldError(f"/{name}", "out_of_range"))
        if not 1 <= self.satisfaction_pulse_days <= 365:
            problems.append(FieldError("/satisfaction_pulse_days", "out_of_range"))
        if problems:
            raise InvalidInput(problems)

    def choose(self, tier: Tier, risk: RiskLevel, open_items: int,
               contacts: int) -> tuple[HandoverLevel, list[str]]:
        """The level and the reasons for it, in the order they were applied."""
        level = self.tier_levels[tier]
        reasons = [f"tier_{tier.value}"]
        if level is not HandoverLevel.STRICT and (open_items >= self.raise_at_open_items
                                                  or contacts >= self.raise_at_contacts):
            level = ORDER[ORDER.index(level) + 1]
            reasons.append("open_items" if open_items >= self.raise_at_open_items
                           else "complexity")
        if risk in FORCING_STRICT and level is not HandoverLevel.STRICT:
            level = HandoverLevel.STRICT
            reasons.append(f"risk_{risk.label}")
        return level, reasons

    def to_dict(self) -> dict[str, Any]:
        return {"tier_levels": {t.value: lv.value for t, lv in sorted(self.tier_levels.items())},
                "raise_at_open_items": self.raise_at_open_items,
                "raise_at_contacts": self.raise_at_contacts,
                "follow_up_working_days": {lv.value: d for lv, d in
                                           self.follow_up_working_days.items()},
                "satisfaction_pulse_days": self.satisfaction_pulse_days}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HandoverStandard:
        return cls(tier_levels={Tier(t): HandoverLevel(lv)
                                for t, lv in data["tier_levels"].items()},
                   raise_at_open_items=int(data["raise_at_open_items"]),
                   raise_at_contacts=int(data["raise_at_contacts"]),
                   follow_up_working_days={HandoverLevel(lv): int(d) for lv, d in
                                           data["follow_up_working_days"].items()},
                   satisfaction_pulse_days=int(data["satisfaction_pulse_days"]))
