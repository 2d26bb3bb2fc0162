"""Customer health (domain §6): a worked example with its factors, missing data counted
as neutral, and properties: the score stays in [0, 100], bad news never raises it, good
satisfaction never lowers it, and the at-risk suggestion follows the threshold."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.common.errors import InvalidInput
from app.domain.customers.health import (
    HealthInputs,
    HealthPolicy,
    health,
    normalised_satisfaction,
)
from app.domain.surveys.scores import csat, nps

SATISFACTION = st.none() | st.floats(0, 100)
COUNT = st.integers(0, 50)


@st.composite
def inputs(draw: st.DrawFn) -> HealthInputs:
    return HealthInputs(draw(SATISFACTION), draw(SATISFACTION), draw(COUNT), draw(COUNT),
                        draw(st.none() | st.integers(0, 3650)), draw(COUNT))


def test_a_worked_example_with_its_factors() -> None:
    """70 + 30·(80−50)/50 (+18) + 0.2·(80−90) (−2) − 2·8 − 1·5 − 0.5·(45−30) (−7.5) − 10
    = 47.5: above the default threshold of 40."""
    result = health(HealthInputs(satisfaction=80, previous_satisfaction=90, open_complaints=2,
                                 sla_breaches=1, days_since_last_contact=45, open_high_risks=1))
    assert [(f.name, f.raw, f.points, f.missing) for f in result.factors] == [
        ("satisfaction", 80, pytest.approx(18.0), False),
        ("satisfaction_trend", -10, pytest.approx(-2.0), False),
        ("open_complaints", 2, -16.0, False),
        ("sla_breaches", 1, -5.0, False),
        ("days_since_last_contact", 45, -7.5, False),
        ("open_high_risks", 1, -10.0, False)]
    assert result.score == 47.5 and not result.suggest_at_risk
    worse = health(HealthInputs(satisfaction=80, previous_satisfaction=90, open_complaints=3,
                                sla_breaches=1, days_since_last_contact=45, open_high_risks=1))
    assert worse.score == 39.5 and worse.suggest_at_risk


def test_missing_data_is_neutral_and_named() -> None:
    result = health(HealthInputs())
    assert result.score == HealthPolicy().baseline
    assert {f.name for f in result.factors if f.missing} == {
        "satisfaction", "satisfaction_trend", "days_since_last_contact"}
    assert all(f.points == 0 for f in result.factors)
    assert health(HealthInputs(satisfaction=50)).score == result.score


def test_deductions_are_capped_and_the_score_clipped() -> None:
    result = health(HealthInputs(satisfaction=0, previous_satisfaction=100,
                                 open_complaints=100, sla_breaches=100,
                                 days_since_last_contact=3650, open_high_risks=100))
    assert [f.points for f in result.factors] == [-30, -10, -32, -20, -15, -30]
    assert result.score == 0 and result.suggest_at_risk
    assert health(HealthInputs(satisfaction=100, previous_satisfaction=0)).score == 100


def test_normalised_satisfaction() -> None:
    assert normalised_satisfaction() is None
    assert normalised_satisfaction(csat([])) is None
    assert normalised_satisfaction(csat([5, 5, 5, 1])) == 75.0
    assert normalised_satisfaction(nps=nps([10, 0, 8, 8])) == 50.0
    assert normalised_satisfaction(csat([5, 1]), nps([10])) == 75.0
    with pytest.raises(InvalidInput):
        normalised_satisfaction(nps([10]), csat([5]))


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("satisfaction", 101.0, "out_of_range"), ("previous_satisfaction", -1.0, "out_of_range"),
    ("open_complaints", -1, "greater_than_equal"), ("days_since_last_contact", -2,
                                                    "greater_than_equal")])
def test_invalid_inputs_are_refused_with_the_field(field: str, value: float,
                                                   reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        health(replace(HealthInputs(), **{field: value}))
    assert [(e.pointer, e.reason) for e in caught.value.field_errors] == [(f"/{field}", reason)]


def test_the_policy_validates_and_round_trips() -> None:
    policy = HealthPolicy(threshold=55.0, complaint_points=12.0, contact_grace_days=14)
    assert HealthPolicy.from_dict(policy.to_dict()) == policy
    assert health(HealthInputs(open_complaints=2), policy).suggest_at_risk
    with pytest.raises(InvalidInput):
        HealthPolicy(threshold=120.0)
    with pytest.raises(InvalidInput):
        HealthPolicy(risk_points=-1.0)
    with pytest.raises(InvalidInput):
        HealthPolicy.from_dict({"threshold": 40})


@given(inputs())
def test_the_score_is_in_range_and_follows_the_threshold(data: HealthInputs) -> None:
    result = health(data)
    assert 0 <= result.score <= 100
    assert result.suggest_at_risk == (result.score < 40)
    assert [f.name for f in result.factors] == [
        "satisfaction", "satisfaction_trend", "open_complaints", "sla_breaches",
        "days_since_last_contact", "open_high_risks"]


@pytest.mark.parametrize("field", ["open_complaints", "sla_breaches", "open_high_risks"])
@given(data=inputs(), more=st.integers(1, 20))
def test_more_bad_news_never_raises_the_score(field: str, data: HealthInputs,
                                              more: int) -> None:
    worse = replace(data, **{field: getattr(data, field) + more})
    assert health(worse).score <= health(data).score


@given(inputs(), st.integers(1, 400))
def test_longer_without_contact_never_raises_the_score(data: HealthInputs, more: int) -> None:
    days = data.days_since_last_contact or 0
    before = health(replace(data, days_since_last_contact=days))
    after = health(replace(data, days_since_last_contact=days + more))
    assert after.score <= before.score


@given(inputs(), st.floats(0, 100), st.floats(0, 100))
def test_higher_satisfaction_never_lowers_the_score(data: HealthInputs, a: float,
                                                   b: float) -> None:
    """Both the level and the trend rise with recent satisfaction."""
    low, high = sorted((a, b))
    assert health(replace(data, satisfaction=low)).score <= health(
        replace(data, satisfaction=high)).score
