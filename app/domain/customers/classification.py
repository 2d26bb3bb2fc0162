"""客户分类: value score from revenue, strategic importance and growth potential, and the
tier it earns under the administrator's tier policy."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.domain.common.errors import FieldError, InvalidInput
from app.domain.customers.model import Tier

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class TierPolicy:
    """Score = weighted share of each input's range, 0–100. Revenue counts in full from
    ``revenue_full_at`` up; importance and potential are 1–5 scales."""

    revenue_full_at: Decimal = Decimal("5000000")
    weight_revenue: Decimal = Decimal("0.5")
    weight_strategic: Decimal = Decimal("0.3")
    weight_growth: Decimal = Decimal("0.2")
    threshold_a: Decimal = Decimal(75)
    threshold_b: Decimal = Decimal(50)
    threshold_c: Decimal = Decimal(25)

    def __post_init__(self) -> None:
        problems: list[FieldError] = []
        if self.revenue_full_at <= 0:
            problems.append(FieldError("/revenue_full_at", "must_be_positive"))
        weights = (self.weight_revenue, self.weight_strategic, self.weight_growth)
        if any(w < 0 for w in weights) or sum(weights) != 1:
            problems.append(FieldError("/weight_revenue", "weights_sum_to_one"))
        if not (HUNDRED >= self.threshold_a > self.threshold_b > self.threshold_c > 0):
            problems.append(FieldError("/threshold_a", "thresholds_descending"))
        if problems:
            raise InvalidInput(problems)

    def to_dict(self) -> dict[str, Any]:
        return {k: str(v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TierPolicy:
        return cls(**{k: Decimal(str(v)) for k, v in data.items()})


def _scale(value: int | None) -> Decimal:
    return Decimal(0) if value is None else (Decimal(value) - 1) / 4


def value_score(revenue: Decimal | None, strategic: int | None, growth: int | None,
                policy: TierPolicy) -> Decimal:
    """A missing input counts as the bottom of its range, so missing data never lifts a
    customer's tier."""
    revenue_share = min(max(revenue or Decimal(0), Decimal(0)) / policy.revenue_full_at,
                        Decimal(1))
    score = HUNDRED * (policy.weight_revenue * revenue_share
                       + policy.weight_strategic * _scale(strategic)
                       + policy.weight_growth * _scale(growth))
    return score.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def tier_for(score: Decimal, policy: TierPolicy) -> Tier:
    if score >= policy.threshold_a:
        return Tier.A
    if score >= policy.threshold_b:
        return Tier.B
    if score >= policy.threshold_c:
        return Tier.C
    return Tier.D
