"""Satisfaction scores with their uncertainty (domain §6). A score from 12 answers is not
the same fact as one from 1 200, so every result carries its 95% interval, its ``n`` and a
``low_confidence`` flag; no answers give no estimate (``None``), never a misleading 0.

Units: NPS in points (−100…100), CSAT and response rate in percent (0…100), CES on its
own 1…7 scale. No scipy: the t quantiles the CES interval needs come from a small table."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist

from app.domain.common.errors import FieldError, FieldErrors, InvalidInput

Z95 = 1.96
# Two shares each inside its interval at least 97.5% of the time are both inside at least
# 95% of the time (Bonferroni): the two-sided 97.5% normal quantile, 2.2414.
Z_EACH_SHARE = NormalDist().inv_cdf(1 - 0.05 / 4)
LOW_CONFIDENCE_BELOW = 30  # domain §6: results from fewer answers are flagged
# Prior strength k (in answers) used when the data cannot estimate one (see ``shrink``):
# a group then needs 30 answers of its own to weigh as much as the overall mean, the same
# count below which a single score is flagged as low confidence.
DEFAULT_PRIOR_STRENGTH = 30.0


class Metric(StrEnum):
    NPS = "nps"  # 0–10: how likely to recommend
    CSAT = "csat"  # 1–5: how satisfied
    CES = "ces"  # 1–7: how easy


SCALES: dict[Metric, range] = {Metric.NPS: range(0, 11), Metric.CSAT: range(1, 6),
                               Metric.CES: range(1, 8)}
# Per-answer values are multiplied by this to give the reported unit.
UNIT: dict[Metric, float] = {Metric.NPS: 100.0, Metric.CSAT: 100.0, Metric.CES: 1.0}
# Two-sided 95% quantiles of Student's t by degrees of freedom (standard tables). Between
# rows the smaller tabulated df is used, so the interval errs on the wide side; beyond 120
# df the normal 1.96 is used (at most 1% narrower than the exact t).
T95: dict[int, float] = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
    9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120,
    17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064,
    25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000,
    120: 1.980}


@dataclass(frozen=True)
class ConfidenceInterval:
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Score:
    """One metric over a set of answers; ``estimate`` and ``interval`` are ``None`` when
    there are no answers."""

    metric: Metric
    estimate: float | None
    interval: ConfidenceInterval | None
    n: int
    low_confidence: bool


@dataclass(frozen=True)
class ResponseRate:
    """Responses per invitation in percent; ``None`` when nobody was invited. ``n`` is the
    number of invitations (what the rate is a share of)."""

    rate: float | None
    responses: int
    n: int
    low_confidence: bool


def t95(df: int) -> float:
    """Two-sided 95% Student-t quantile from ``T95`` (conservative between rows)."""
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df > max(T95):
        return Z95
    return T95[max(d for d in T95 if d <= df)]


def _checked(metric: Metric, answers: Iterable[int]) -> list[int]:
    """The answers, or InvalidInput naming every one outside the metric's scale."""
    scale = SCALES[metric]
    values = list(answers)
    errors = FieldErrors()
    for i, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int) or value not in scale:
            errors.add(f"/answers/{i}", "answer_out_of_scale", low=scale[0], high=scale[-1])
    errors.raise_if_any()
    return values


def _clip(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _empty(metric: Metric) -> Score:
    return Score(metric, None, None, 0, True)


def nps(answers: Iterable[int]) -> Score:
    """% promoters (9–10) − % detractors (0–6), with a 95% interval that stays honest for
    few answers: each share gets a Wilson interval at ``Z_EACH_SHARE``, so both hold
    together at least 95% of the time (Bonferroni), and the NPS lies between the lowest
    promoters less the most detractors and the reverse. Unlike p ± z·se it never collapses
    onto the estimate: one promoter gives about [−67, 100], not [100, 100]."""
    values = _checked(Metric.NPS, answers)
    return nps_of_counts(sum(v >= 9 for v in values), sum(v <= 6 for v in values), len(values))


def nps_of_counts(promoters: int, detractors: int, n: int) -> Score:
    """``nps`` from its counts, for answers the database has already counted."""
    _check_counts(n, promoters=promoters, detractors=detractors)
    if n == 0:
        return _empty(Metric.NPS)
    estimate = 100 * (promoters - detractors) / n
    prom, det = wilson(promoters, n, Z_EACH_SHARE), wilson(detractors, n, Z_EACH_SHARE)
    return Score(Metric.NPS, estimate,
                 ConfidenceInterval(min(estimate, 100 * (prom.low - det.high)),
                                    max(estimate, 100 * (prom.high - det.low))),
                 n, n < LOW_CONFIDENCE_BELOW)


def wilson(successes: int, n: int, z: float = Z95) -> ConfidenceInterval:
    """Wilson score interval for a proportion (as fractions): unlike p ± z·se it stays
    inside [0, 1] and does not collapse to a point at 0% or 100%."""
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return ConfidenceInterval(max(0.0, centre - half), min(1.0, centre + half))


def csat(answers: Iterable[int]) -> Score:
    """% of answers that are 4 or 5, with the Wilson 95% interval."""
    values = _checked(Metric.CSAT, answers)
    return csat_of_counts(sum(v >= 4 for v in values), len(values))


def csat_of_counts(satisfied: int, n: int) -> Score:
    """``csat`` from its counts, for answers the database has already counted."""
    _check_counts(n, satisfied=satisfied)
    if n == 0:
        return _empty(Metric.CSAT)
    interval = wilson(satisfied, n)
    estimate = 100 * satisfied / n
    return Score(Metric.CSAT, estimate,
                 ConfidenceInterval(min(estimate, 100 * interval.low),
                                    max(estimate, 100 * interval.high)),
                 n, n < LOW_CONFIDENCE_BELOW)


def ces(answers: Iterable[int]) -> Score:
    """Mean effort score with a Student-t 95% interval (quantiles from ``T95``), clipped to
    the 1–7 scale. One answer says nothing about the spread, so its interval is the whole
    scale rather than a made-up width."""
    values = _checked(Metric.CES, answers)
    n = len(values)
    if n == 0:
        return _empty(Metric.CES)
    mean = sum(values) / n
    if n == 1:
        return Score(Metric.CES, mean, ConfidenceInterval(1.0, 7.0), 1, True)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t95(n - 1) * sd / math.sqrt(n)
    return Score(Metric.CES, mean,
                 ConfidenceInterval(max(1.0, mean - half), min(7.0, mean + half)),
                 n, n < LOW_CONFIDENCE_BELOW)


def score(metric: Metric, answers: Iterable[int]) -> Score:
    """The score of ``metric``: one entry point for report code that loops over metrics."""
    return {Metric.NPS: nps, Metric.CSAT: csat, Metric.CES: ces}[metric](answers)


def response_rate(responses: int, invitations: int) -> ResponseRate:
    """Share of invitations answered; an invitation is answered at most once, so
    ``responses`` cannot exceed ``invitations``."""
    errors = FieldErrors()
    if invitations < 0:
        errors.add("/invitations", "greater_than_equal", ge=0)
    if responses < 0:
        errors.add("/responses", "greater_than_equal", ge=0)
    elif responses > max(invitations, 0):
        errors.add("/responses", "responses_exceed_invitations")
    errors.raise_if_any()
    rate = None if invitations == 0 else 100 * responses / invitations
    return ResponseRate(rate, responses, invitations, invitations < LOW_CONFIDENCE_BELOW)


# ---------------------------------------------------------------------------------------
# Per-group comparisons (e.g. per account manager) with empirical-Bayes shrinkage.


@dataclass(frozen=True)
class GroupTally:
    """One group's answers reduced to sums of per-answer values: CSAT counts 1 per
    satisfied answer, NPS +1/0/−1, CES the answer itself. ``total_sq`` (the sum of
    squares) lets the within-group variance be estimated without the raw answers."""

    key: str
    metric: Metric
    n: int
    total: float
    total_sq: float

    @classmethod
    def csat(cls, key: str, satisfied: int, n: int) -> GroupTally:
        _check_counts(n, satisfied=satisfied)
        return cls(key, Metric.CSAT, n, satisfied, satisfied)

    @classmethod
    def nps(cls, key: str, promoters: int, detractors: int, n: int) -> GroupTally:
        _check_counts(n, promoters=promoters, detractors=detractors)
        return cls(key, Metric.NPS, n, promoters - detractors, promoters + detractors)

    @classmethod
    def from_answers(cls, key: str, metric: Metric, answers: Iterable[int]) -> GroupTally:
        values = _checked(metric, answers)
        if metric is Metric.CSAT:
            per = [1 if v >= 4 else 0 for v in values]
        elif metric is Metric.NPS:
            per = [1 if v >= 9 else -1 if v <= 6 else 0 for v in values]
        else:
            per = values
        return cls(key, metric, len(per), sum(per), sum(x * x for x in per))

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None


def _check_counts(n: int, **parts: int) -> None:
    errors = FieldErrors()
    if n < 0:
        errors.add("/n", "greater_than_equal", ge=0)
    for name, count in parts.items():
        if count < 0:
            errors.add(f"/{name}", "greater_than_equal", ge=0)
    if sum(parts.values()) > max(n, 0):
        errors.add("/n", "counts_exceed_n", parts=" + ".join(parts))
    errors.raise_if_any()


class KSource(StrEnum):
    ESTIMATED = "estimated"  # method of moments on the between-group variance
    PRIOR = "prior"  # the data showed no between-group variance: documented prior used


@dataclass(frozen=True)
class ShrunkGroup:
    """``raw`` is the group's own estimate, ``shrunk`` the one to compare groups by;
    ``weight`` = n / (n + k) is how much of ``raw`` it keeps."""

    key: str
    n: int
    raw: float | None
    shrunk: float | None
    weight: float
    low_confidence: bool

    @property
    def was_shrunk(self) -> bool:
        return self.weight < 1.0


@dataclass(frozen=True)
class Shrinkage:
    """Result of ``shrink``. ``explanation`` is a stable code a report can word."""

    metric: Metric
    overall: float | None
    k: float
    k_source: KSource
    groups: tuple[ShrunkGroup, ...]
    explanation: str = "shrunk_toward_overall_mean"


def shrink(metric: Metric, groups: Sequence[GroupTally],
           prior_strength: float = DEFAULT_PRIOR_STRENGTH) -> Shrinkage:
    """Empirical-Bayes estimates for comparing groups of very different size: each
    group's mean moves toward the overall (pooled) mean with weight n / (n + k), so a
    manager with 3 glowing answers does not top one with 300 good ones by chance.

    k = σ² / τ²: σ² is the pooled within-group variance of per-answer values, τ² the
    between-group variance of the true means, estimated by the method of moments as the
    variance of the group means minus their average sampling variance σ²·mean(1/nᵢ).
    When τ² ≤ 0 (or fewer than two groups have answers, or no within-group spread can be
    measured) the data cannot estimate k and ``prior_strength`` is used instead."""
    if prior_strength <= 0:
        raise InvalidInput([FieldError("/prior_strength", "must_be_positive")])
    if any(g.metric is not metric for g in groups):
        raise InvalidInput([FieldError("/groups", "metrics_differ")])
    unit = UNIT[metric]
    answered = [g for g in groups if g.n > 0]
    total_n = sum(g.n for g in answered)
    if not answered:
        return Shrinkage(metric, None, prior_strength, KSource.PRIOR,
                         tuple(ShrunkGroup(g.key, 0, None, None, 0.0, True) for g in groups))
    overall = sum(g.total for g in answered) / total_n
    k, source = prior_strength, KSource.PRIOR
    if len(answered) >= 2 and total_n > len(answered):
        within = sum(max(0.0, g.total_sq - g.total ** 2 / g.n) for g in answered) / (
            total_n - len(answered))
        means = [g.total / g.n for g in answered]
        centre = sum(means) / len(means)
        spread = sum((m - centre) ** 2 for m in means) / (len(means) - 1)
        between = spread - within * sum(1 / g.n for g in answered) / len(answered)
        if between > 0 and within > 0:
            k, source = within / between, KSource.ESTIMATED
    shrunk = []
    for g in groups:
        weight = g.n / (g.n + k)
        raw = None if g.n == 0 else g.total / g.n
        estimate = overall if raw is None else overall + weight * (raw - overall)
        shrunk.append(ShrunkGroup(g.key, g.n, None if raw is None else unit * raw,
                                  unit * estimate, weight, g.n < LOW_CONFIDENCE_BELOW))
    return Shrinkage(metric, unit * overall, k, source, tuple(shrunk))
