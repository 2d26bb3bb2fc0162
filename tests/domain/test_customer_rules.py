"""The customer rules as pure functions, checked over generated inputs (hypothesis): the
value score stays in range and never drops when an input grows, under any valid policy;
tiers follow the score; a manual tier wins; the lifecycle table is the only way between
stages; history diffs are exact; integrity is a percentage."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app.domain.common.errors import InvalidInput
from app.domain.customers.classification import TierPolicy, tier_for, value_score
from app.domain.customers.history import changes
from app.domain.customers.integrity import IntegrityPolicy, Requirement, evaluate
from app.domain.customers.lifecycle import (
    TRANSITIONS,
    StageTransitionRefused,
    allowed_targets,
    transition,
)
from app.domain.customers.model import (
    ChurnReason,
    Contact,
    ContactChannel,
    Customer,
    CustomerKind,
    Email,
    Phone,
    Stage,
    Tier,
)
from app.domain.customers.validation import credit_code

NOW = datetime(2026, 1, 1, tzinfo=UTC)
RANK = {Tier.A: 4, Tier.B: 3, Tier.C: 2, Tier.D: 1}

revenues = st.none() | st.decimals(min_value=0, max_value=Decimal("1e10"), places=2)
scales = st.none() | st.integers(1, 5)
scores = st.decimals(min_value=0, max_value=100, places=1)


@st.composite
def policies(draw: st.DrawFn) -> TierPolicy:
    """Any valid tier policy: weights in hundredths adding up to 1, 100 ≥ A > B > C > 0."""
    revenue_weight = draw(st.integers(0, 100))
    strategic_weight = draw(st.integers(0, 100 - revenue_weight))
    c, b, a = sorted(draw(st.lists(st.integers(1, 1000), min_size=3, max_size=3,
                                   unique=True)))
    return TierPolicy(
        revenue_full_at=draw(st.decimals(min_value=1, max_value=Decimal("1e9"), places=0)),
        weight_revenue=Decimal(revenue_weight) / 100,
        weight_strategic=Decimal(strategic_weight) / 100,
        weight_growth=Decimal(100 - revenue_weight - strategic_weight) / 100,
        threshold_a=Decimal(a) / 10, threshold_b=Decimal(b) / 10, threshold_c=Decimal(c) / 10)


def _ordered(low: Any, high: Any) -> tuple[Any, Any]:
    """(smaller, larger) where None is the bottom of any range."""
    if low is None or (high is not None and low <= high):
        return low, high
    return high, low


# classification --------------------------------------------------------------------------

@given(policies(), revenues, scales, scales)
def test_the_value_score_is_between_0_and_100(policy: TierPolicy, revenue: Decimal | None,
                                              strategic: int | None,
                                              growth: int | None) -> None:
    assert 0 <= value_score(revenue, strategic, growth, policy) <= 100


@given(policies(), revenues, revenues, scales, scales, scales, scales)
def test_the_value_score_never_drops_when_an_input_grows(
        policy: TierPolicy, r1: Decimal | None, r2: Decimal | None, s1: int | None,
        s2: int | None, g1: int | None, g2: int | None) -> None:
    (r_low, r_high), (s_low, s_high), (g_low, g_high) = (_ordered(r1, r2), _ordered(s1, s2),
                                                         _ordered(g1, g2))
    base = value_score(r_low, s_low, g_low, policy)
    assert base <= value_score(r_high, s_low, g_low, policy)
    assert base <= value_score(r_low, s_high, g_low, policy)
    assert base <= value_score(r_low, s_low, g_high, policy)
    assert base <= value_score(r_high, s_high, g_high, policy)


def test_the_value_score_reaches_both_ends_under_the_default_policy() -> None:
    policy = TierPolicy()
    assert value_score(None, None, None, policy) == 0
    assert value_score(policy.revenue_full_at * 3, 5, 5, policy) == 100
    assert value_score(Decimal(0), 3, 3, policy) == Decimal("25.0")


@given(policies(), scores, scores)
def test_the_tier_never_drops_when_the_score_grows(policy: TierPolicy, a: Decimal,
                                                   b: Decimal) -> None:
    low, high = sorted((a, b))
    assert RANK[tier_for(low, policy)] <= RANK[tier_for(high, policy)]


@given(policies())
def test_each_threshold_is_the_lowest_score_of_its_tier(policy: TierPolicy) -> None:
    for tier, threshold in ((Tier.A, policy.threshold_a), (Tier.B, policy.threshold_b),
                            (Tier.C, policy.threshold_c)):
        assert tier_for(threshold, policy) is tier
        assert RANK[tier_for(threshold - Decimal("0.01"), policy)] == RANK[tier] - 1


@given(st.lists(st.decimals(min_value=0, max_value=1, places=2), min_size=3, max_size=3))
def test_weights_that_do_not_add_up_to_1_are_refused(weights: list[Decimal]) -> None:
    w_revenue, w_strategic, w_growth = weights
    if w_revenue + w_strategic + w_growth == 1:
        TierPolicy(weight_revenue=w_revenue, weight_strategic=w_strategic,
                   weight_growth=w_growth)
        return
    with pytest.raises(InvalidInput) as refused:
        TierPolicy(weight_revenue=w_revenue, weight_strategic=w_strategic,
                   weight_growth=w_growth)
    assert [e.reason for e in refused.value.field_errors] == ["weights_sum_to_one"]


@given(st.lists(st.decimals(min_value=-10, max_value=110, places=1), min_size=3, max_size=3))
def test_thresholds_must_descend_within_0_and_100(thresholds: list[Decimal]) -> None:
    a, b, c = thresholds
    valid = 100 >= a > b > c > 0
    try:
        TierPolicy(threshold_a=a, threshold_b=b, threshold_c=c)
    except InvalidInput as refused:
        assert not valid
        assert [e.reason for e in refused.field_errors] == ["thresholds_descending"]
    else:
        assert valid


# customers built for the rules below ------------------------------------------------------

@st.composite
def contacts(draw: st.DrawFn) -> Contact:
    return Contact(
        id=uuid.uuid4(), customer_id=uuid.uuid4(), name="联系人", title="",
        phones=draw(st.lists(st.builds(Phone, st.just("+8613800138000"), st.booleans()),
                             max_size=2)),
        emails=draw(st.lists(st.builds(Email, st.just("a@example.cn"), st.booleans()),
                             max_size=2)),
        im_handle="", preferred_channel=None, is_primary=draw(st.booleans()), version=1,
        created_at=NOW, updated_at=NOW,
        erased_at=draw(st.none() | st.just(NOW)))


@st.composite
def customers(draw: st.DrawFn) -> Customer:
    text = st.sampled_from(["", "  ", "制造业", "广东省深圳市"])
    return Customer(
        id=uuid.uuid4(), name="客户", kind=draw(st.sampled_from(CustomerKind)),
        credit_code=draw(st.none() | st.just("91440300279583285M")),
        industry=draw(text), region=draw(text), address=draw(text), owner_id=uuid.uuid4(),
        department_id=uuid.uuid4(), shared_with_department=False, tags=[], needs=[],
        preferred_channel=draw(st.none() | st.sampled_from(ContactChannel)), preferred_time="",
        custom_attributes={}, external_refs={}, annual_revenue=None, currency="CNY",
        strategic_importance=None, growth_potential=None, value_score=Decimal(0),
        tier_computed=draw(st.sampled_from(Tier)), tier_manual=draw(st.none()
                                                                     | st.sampled_from(Tier)),
        tier_manual_reason=None, stage=Stage.PROSPECT, churn_reason=None, churn_note=None,
        integrity_score=0, version=1, created_at=NOW, updated_at=NOW,
        contacts=draw(st.lists(contacts(), max_size=4)))


@given(customers())
def test_a_manual_tier_always_wins(customer: Customer) -> None:
    if customer.tier_manual is None:
        assert customer.tier is customer.tier_computed
    else:
        assert customer.tier is customer.tier_manual
    assert customer.snapshot()["tier_computed"] is customer.tier_computed


# lifecycle -------------------------------------------------------------------------------

PAIRS = {(t.source, t.target) for t in TRANSITIONS}


@pytest.mark.parametrize("target", list(Stage))
@pytest.mark.parametrize("current", list(Stage))
def test_a_transition_succeeds_exactly_when_the_table_lists_it(current: Stage,
                                                               target: Stage) -> None:
    if (current, target) in PAIRS:
        step = transition(current, target, ChurnReason.PRICE, "价格高于竞品 20%")
        assert (step.source, step.target) == (current, target) and step.action
    else:
        with pytest.raises(StageTransitionRefused) as refused:
            transition(current, target, ChurnReason.PRICE, "价格高于竞品 20%")
        assert refused.value.params["allowed"] == (", ".join(allowed_targets(current))
                                                   or "none")
    assert set(allowed_targets(current)) == {t for s, t in PAIRS if s is current}


@given(st.sampled_from(Stage), st.sampled_from(Stage), st.none() | st.sampled_from(ChurnReason),
       st.none() | st.sampled_from(["", "   ", "转向竞争对手"]))
def test_only_a_listed_churn_with_reason_and_note_succeeds(
        current: Stage, target: Stage, reason: ChurnReason | None, note: str | None) -> None:
    complete = reason is not None and bool((note or "").strip())
    try:
        step = transition(current, target, reason, note)
    except StageTransitionRefused:
        assert (current, target) not in PAIRS
    except InvalidInput as missing:
        assert (current, target) in PAIRS and target is Stage.CHURNED and not complete
        assert {e.pointer for e in missing.field_errors} == (
            ({"/churn_reason"} if reason is None else set())
            | ({"/churn_note"} if not (note or "").strip() else set()))
    else:
        assert (step.source, step.target) == (current, target)
        assert target is not Stage.CHURNED or complete


def test_the_table_is_the_domain_lifecycle() -> None:
    domain = {(Stage.PROSPECT, Stage.ONBOARDING), (Stage.ONBOARDING, Stage.ACTIVE),
              (Stage.ACTIVE, Stage.AT_RISK), (Stage.AT_RISK, Stage.ACTIVE),
              (Stage.AT_RISK, Stage.CHURNED), (Stage.CHURNED, Stage.ACTIVE)}
    assert domain == PAIRS


# history ---------------------------------------------------------------------------------

values = st.none() | st.integers(-3, 3) | st.text(max_size=3) | st.lists(st.integers(0, 2),
                                                                          max_size=2)
snapshots = st.dictionaries(st.sampled_from("abcdefg"), values, max_size=7)


@given(snapshots, snapshots)
def test_changes_lists_exactly_the_differing_keys(a: dict[str, Any],
                                                  b: dict[str, Any]) -> None:
    diff = changes(a, b)
    differing = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    assert [c.field for c in diff] == sorted(differing)
    assert all((c.old, c.new) == (a.get(c.field), b.get(c.field)) for c in diff)


@given(snapshots)
def test_nothing_changes_between_a_snapshot_and_itself(a: dict[str, Any]) -> None:
    assert changes(a, a) == [] and changes(a, dict(a)) == []
    assert [c.field for c in changes(None, a)] == sorted(k for k, v in a.items()
                                                         if v is not None)


# integrity -------------------------------------------------------------------------------

requirement_sets = st.lists(st.sampled_from(Requirement), unique=True).map(tuple)
integrity_policies = st.builds(IntegrityPolicy, st.fixed_dictionaries(
    {t: requirement_sets for t in Tier}))


@given(customers(), integrity_policies)
def test_integrity_is_a_percentage_of_what_applies(customer: Customer,
                                                   policy: IntegrityPolicy) -> None:
    report = evaluate(customer, policy)
    assert 0 <= report.percent <= 100 and report.tier is customer.tier
    assert set(report.missing) <= set(policy.requirements[customer.tier])
    assert (report.percent == 100) == (not report.missing)
    if customer.kind is CustomerKind.INDIVIDUAL:
        assert Requirement.CREDIT_CODE not in [i.requirement for i in report.items]


@given(customers())
def test_integrity_is_100_when_nothing_is_required(customer: Customer) -> None:
    report = evaluate(customer, IntegrityPolicy({t: () for t in Tier}))
    assert (report.percent, report.items, report.missing) == (100, [], [])


# 统一社会信用代码 (GB 32100-2015) -----------------------------------------------------------
# The check character, computed here independently of the library the rule uses: the
# 31-character alphabet (no I, O, S, V, Z), a weight per position, (31 − Σ) mod 31.

CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
REAL_CODES = ("91350100M000100Y43", "91110108551385082Q", "91440300708461136T")


def check_character(body: str) -> str:
    total = sum(CODE_ALPHABET.index(c) * w for c, w in zip(body, CODE_WEIGHTS, strict=True))
    return CODE_ALPHABET[(31 - total % 31) % 31]


def credit_codes() -> st.SearchStrategy[str]:
    """Valid codes: eight digits (registering office, kind, region), nine characters of
    the alphabet (the organisation code), the check character."""
    body = st.tuples(st.text("0123456789", min_size=8, max_size=8),
                     st.text(CODE_ALPHABET, min_size=9, max_size=9)).map("".join)
    return body.map(lambda b: b + check_character(b))


def refusal(raw: str) -> str | None:
    try:
        credit_code(raw)
    except InvalidInput as refused:
        return refused.field_errors[0].reason
    return None


def test_the_check_character_of_real_codes() -> None:
    assert [check_character(code[:17]) for code in REAL_CODES] == [c[17] for c in REAL_CODES]


@given(credit_codes())
@example(REAL_CODES[0])
@example("000000000000000000")  # Σ ≡ 0: the check character is "0", not the 32nd one
@example("10000000000000000Y")  # Σ ≡ 1: the check character is the last, "Y" (30)
@example("000000000000000101")  # Σ ≡ 30: the check character is "1"
def test_a_valid_credit_code_is_accepted_in_any_case(code: str) -> None:
    assert credit_code(code) == code
    assert credit_code(code.lower()) == code


@given(credit_codes(), st.integers(min_value=0, max_value=17))
@example(REAL_CODES[0], 0)
@example(REAL_CODES[0], 7)  # the last of the digits
@example(REAL_CODES[0], 8)  # the first character of the organisation code
@example(REAL_CODES[0], 17)  # the check character itself
@example("000000000000000000", 17)
@example("10000000000000000Y", 17)
def test_every_single_character_corruption_is_a_checksum_error(code: str, position: int
                                                                ) -> None:
    """A weight is never a multiple of 31, so changing any one character changes the sum:
    each other character allowed at that position is refused by the checksum."""
    allowed = "0123456789" if position < 8 else CODE_ALPHABET
    for other in allowed.replace(code[position], ""):
        corrupted = code[:position] + other + code[position + 1:]
        assert refusal(corrupted) == "credit_code_checksum", corrupted


@given(credit_codes(), st.sampled_from("IOSVZ"))
@example(REAL_CODES[0], "Z")
def test_a_check_character_outside_the_alphabet_is_a_format_error(code: str,
                                                                   outside: str) -> None:
    assert refusal(code[:17] + outside) == "credit_code_format"
    assert refusal(code[:17]) == "credit_code_format"  # 17 characters: no check character
    assert refusal(code + "0") == "credit_code_format"
