"""Customer health 0–100 (domain §6): recent satisfaction, its trend, open complaints, SLA
breaches, days since the last contact (定期回访) and open high/critical risks.

The score is ``baseline`` plus the points of each factor, clipped to [0, 100], and the
factors come with it so a reader sees why. Satisfaction and its trend move the score both
ways around a neutral midpoint; the other factors only deduct, each capped so that one
factor cannot hide all others. Missing data (no survey yet, no contact recorded) counts as
neutral, not as a penalty, and is named in its factor (``missing``): a new customer is
not at risk for having been asked nothing yet."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from app.domain.common.errors import FieldError, FieldErrors, InvalidInput
from app.domain.surveys.scores import Metric, Score

NEUTRAL_SATISFACTION = 50.0  # on the 0–100 scale: points above add, points below deduct


@dataclass(frozen=True)
class HealthPolicy:
    """Weights (points) and the at-risk threshold; all ≥ 0. With the defaults: no data at
    all gives 70; perfect satisfaction +30, none −30; each open complaint −8 (at most
    −32), each SLA breach −5 (−20), each open high/critical risk −10 (−30); −0.5 a day
    without contact beyond 30 days (−15); trend ±0.2 a point of change (±10)."""

    baseline: float = 70.0
    satisfaction_weight: float = 30.0  # points at satisfaction 100 (and minus at 0)
    trend_per_point: float = 0.2
    trend_cap: float = 10.0
    complaint_points: float = 8.0
    complaint_cap: float = 32.0
    breach_points: float = 5.0
    breach_cap: float = 20.0
    contact_grace_days: int = 30
    contact_points_per_day: float = 0.5
    contact_cap: float = 15.0
    risk_points: float = 10.0
    risk_cap: float = 30.0
    threshold: float = 40.0  # below it the customer is suggested ``at_risk``

    def __post_init__(self) -> None:
        errors = FieldErrors()
        for f in fields(self):
            value = getattr(self, f.name)
            if value < 0 or (f.name in ("baseline", "threshold") and value > 100):
                errors.add(f"/{f.name}", "out_of_range")
        errors.raise_if_any()

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HealthPolicy:
        try:
            return cls(**{f.name: type(getattr(cls(), f.name))(data[f.name])
                          for f in fields(cls)})
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput([FieldError("/health_policy", "value_error",
                                           {"error": str(exc)})]) from exc


@dataclass(frozen=True)
class HealthInputs:
    """``satisfaction`` and ``previous_satisfaction`` are on 0–100 (see
    ``normalised_satisfaction``) for the recent and the preceding period; counts are of
    what is open now (breaches: in the period the service looks at)."""

    satisfaction: float | None = None
    previous_satisfaction: float | None = None
    open_complaints: int = 0
    sla_breaches: int = 0
    days_since_last_contact: int | None = None
    open_high_risks: int = 0  # open register entries rated high or critical


@dataclass(frozen=True)
class Factor:
    """``points`` is what the factor added (> 0) or deducted (< 0); ``missing`` says the
    data was absent and the factor counted as neutral."""

    name: str
    raw: float | None
    points: float
    missing: bool = False


@dataclass(frozen=True)
class CustomerHealth:
    score: float
    factors: tuple[Factor, ...]
    threshold: float

    @property
    def suggest_at_risk(self) -> bool:
        return self.score < self.threshold


def normalised_satisfaction(csat: Score | None = None, nps: Score | None = None) -> float | None:
    """One 0–100 satisfaction figure: CSAT % as is, NPS mapped from −100…100; the mean
    when both exist; ``None`` when neither has answers (then health treats it as neutral)."""
    parts = []
    for given, metric in ((csat, Metric.CSAT), (nps, Metric.NPS)):
        if given is None:
            continue
        if given.metric is not metric:
            raise InvalidInput([FieldError(f"/{metric}", "metrics_differ")])
        if given.estimate is not None:
            parts.append(given.estimate if metric is Metric.CSAT else (given.estimate + 100) / 2)
    return sum(parts) / len(parts) if parts else None


def _deduct(per: float, count: float, cap: float) -> float:
    return 0.0 - min(cap, per * count)


def _validate(inputs: HealthInputs) -> None:
    errors = FieldErrors()
    for name in ("satisfaction", "previous_satisfaction"):
        value = getattr(inputs, name)
        if value is not None and not 0 <= value <= 100:
            errors.add(f"/{name}", "out_of_range")
    for name in ("open_complaints", "sla_breaches", "days_since_last_contact",
                 "open_high_risks"):
        value = getattr(inputs, name)
        if value is not None and value < 0:
            errors.add(f"/{name}", "greater_than_equal", ge=0)
    errors.raise_if_any()


def health(inputs: HealthInputs, policy: HealthPolicy | None = None) -> CustomerHealth:
    """The score and its factors, in a fixed order (names are stable snake_case)."""
    p = policy or HealthPolicy()
    _validate(inputs)
    s, prev = inputs.satisfaction, inputs.previous_satisfaction
    factors = [
        Factor("satisfaction", s, 0.0, True) if s is None else Factor(
            "satisfaction", s, p.satisfaction_weight * (s - NEUTRAL_SATISFACTION)
            / NEUTRAL_SATISFACTION),
        Factor("satisfaction_trend", None, 0.0, True) if s is None or prev is None else Factor(
            "satisfaction_trend", s - prev,
            max(-p.trend_cap, min(p.trend_cap, p.trend_per_point * (s - prev)))),
        Factor("open_complaints", inputs.open_complaints,
               _deduct(p.complaint_points, inputs.open_complaints, p.complaint_cap)),
        Factor("sla_breaches", inputs.sla_breaches,
               _deduct(p.breach_points, inputs.sla_breaches, p.breach_cap)),
        Factor("days_since_last_contact", None, 0.0, True)
        if inputs.days_since_last_contact is None else Factor(
            "days_since_last_contact", inputs.days_since_last_contact,
            _deduct(p.contact_points_per_day,
                    max(0, inputs.days_since_last_contact - p.contact_grace_days),
                    p.contact_cap)),
        Factor("open_high_risks", inputs.open_high_risks,
               _deduct(p.risk_points, inputs.open_high_risks, p.risk_cap)),
    ]
    total = p.baseline + sum(f.points for f in factors)
    return CustomerHealth(round(max(0.0, min(100.0, total)), 1), tuple(factors), p.threshold)
