"""Handover risk (风险评估, domain §4): how likely the customer is to be hurt by changing
hands, from its tier (the impact), how long the handing-over manager served it, its latest
satisfaction, open complaints, open high-risk changes and open risks (the likelihood);
rated by the same risk matrix as every other risk. Each factor is kept with its points so
a reader sees why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.customers.model import Tier
from app.domain.handovers.model import HandoverRisk, RiskFactor
from app.domain.risk.matrix import RiskMatrix

IMPACT_BY_TIER = {Tier.A: 5, Tier.B: 4, Tier.C: 3, Tier.D: 2}


@dataclass(frozen=True)
class RiskInputs:
    tier: Tier
    served_since: datetime  # since when the handing-over manager owns the customer
    latest_satisfaction: int | None  # 1–5, None when never measured
    open_complaints: int | None  # None while no feedback is recorded for the customer
    open_high_risk_changes: int
    open_risks: int


def _tenure_points(years: float) -> int:
    """A long relationship holds knowledge no file does: more to lose in the move."""
    return 0 if years < 1 else (1 if years < 3 else 2)


def _satisfaction_points(score: int | None) -> int:
    if score is None or score >= 4:
        return 0
    return 1 if score == 3 else 2


def _count_points(count: int | None, two_from: int) -> int:
    if not count:
        return 0
    return 2 if count >= two_from else 1


def assess(inputs: RiskInputs, matrix: RiskMatrix, now: datetime) -> HandoverRisk:
    years = max((now - inputs.served_since).days, 0) / 365.25
    factors = (
        RiskFactor("tier", inputs.tier.value, 0),
        RiskFactor("years_served", round(years, 1), _tenure_points(years)),
        RiskFactor("latest_satisfaction", inputs.latest_satisfaction,
                   _satisfaction_points(inputs.latest_satisfaction)),
        RiskFactor("open_complaints", inputs.open_complaints,
                   _count_points(inputs.open_complaints, 3)),
        RiskFactor("open_high_risk_changes", inputs.open_high_risk_changes,
                   _count_points(inputs.open_high_risk_changes, 2)),
        RiskFactor("open_risks", inputs.open_risks, _count_points(inputs.open_risks, 3)),
    )
    likelihood = min(5, 1 + sum(f.points for f in factors))
    impact = IMPACT_BY_TIER[inputs.tier]
    return HandoverRisk(likelihood, impact, matrix.level(likelihood, impact).label, factors)
