"""Handover rules as properties of the pure domain (domain §4), over random inputs: the
handover standard's choice of level, the handover risk assessment, the workflow table
(``check`` and ``allowed_actions`` never disagree), what each action does (``apply``: no
sequence of actions signs twice as one person or transfers before the last required
signature, and states move only along the table), the standard's serialisation and
validation, and the working days follow-ups fall due on."""

from __future__ import annotations

import json
from copy import deepcopy
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from app.domain.access.principal import Principal, PrincipalKind
from app.domain.access.roles import Role
from app.domain.common.calendar import BusinessCalendar
from app.domain.common.errors import (
    DomainError,
    InvalidInput,
    NotYourAction,
    TransitionNotAllowed,
)
from app.domain.customers.model import Tier
from app.domain.handovers import effects, workflow
from app.domain.handovers.model import (
    ChecklistItem,
    Finding,
    Handover,
    HandoverLevel,
    HandoverReason,
    HandoverRisk,
    HandoverState,
    Notification,
    Signature,
    SignatureRole,
    Stakeholder,
)
from app.domain.handovers.risk import IMPACT_BY_TIER, RiskInputs, assess
from app.domain.handovers.standard import ORDER, HandoverStandard
from app.domain.risk.matrix import SCALE, RiskLevel, RiskMatrix

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
RANK = {level: i for i, level in enumerate(ORDER)}  # light < standard < strict
TIER_LEVEL = {Tier.A: HandoverLevel.STRICT, Tier.B: HandoverLevel.STANDARD,
              Tier.C: HandoverLevel.LIGHT, Tier.D: HandoverLevel.LIGHT}
CALENDAR = BusinessCalendar()

tiers = st.sampled_from(list(Tier))
levels = st.sampled_from(list(HandoverLevel))
risk_levels = st.sampled_from(list(RiskLevel))
counts = st.integers(0, 2000)


@st.composite
def standards(draw: st.DrawFn) -> HandoverStandard:
    return HandoverStandard(
        tier_levels={t: draw(levels) for t in Tier},
        raise_at_open_items=draw(st.integers(1, 1000)),
        raise_at_contacts=draw(st.integers(1, 1000)),
        follow_up_working_days={lv: draw(st.integers(1, 60)) for lv in HandoverLevel},
        satisfaction_pulse_days=draw(st.integers(1, 365)))


@st.composite
def matrices(draw: st.DrawFn) -> RiskMatrix:
    """Any valid (monotone) matrix: each cell the highest of random levels at or below it."""
    raw = [[draw(risk_levels) for _ in SCALE] for _ in SCALE]
    return RiskMatrix(tuple(tuple(
        max(raw[a][b] for a in range(lk + 1) for b in range(im + 1)) for im in range(5))
        for lk in range(5)))


# the handover standard -----------------------------------------------------------------

@given(standards(), tiers, risk_levels, counts, counts)
def test_the_level_is_never_below_the_tiers_and_high_risk_forces_strict(
        standard: HandoverStandard, tier: Tier, risk: RiskLevel, open_items: int,
        contacts: int) -> None:
    level, reasons = standard.choose(tier, risk, open_items, contacts)
    assert RANK[level] >= RANK[standard.tier_levels[tier]]
    assert RANK[level] - RANK[standard.tier_levels[tier]] <= 1 or risk >= RiskLevel.HIGH
    if risk >= RiskLevel.HIGH:
        assert level is HandoverLevel.STRICT
    # The rule, stated on its own: the tier's level, one step up when open items or
    # contacts reach their threshold, strict when the risk is high or critical.
    expected, why = standard.tier_levels[tier], [f"tier_{tier.value}"]
    if expected is not HandoverLevel.STRICT:
        if open_items >= standard.raise_at_open_items:
            expected, why = ORDER[RANK[expected] + 1], [*why, "open_items"]
        elif contacts >= standard.raise_at_contacts:
            expected, why = ORDER[RANK[expected] + 1], [*why, "complexity"]
    if risk >= RiskLevel.HIGH and expected is not HandoverLevel.STRICT:
        expected, why = HandoverLevel.STRICT, [*why, f"risk_{risk.label}"]
    assert (level, reasons) == (expected, why)


@given(standards(), tiers, risk_levels, counts, counts, st.integers(0, 500),
       st.integers(0, 500), risk_levels)
def test_more_open_items_contacts_or_risk_never_lower_the_level(
        standard: HandoverStandard, tier: Tier, risk: RiskLevel, open_items: int,
        contacts: int, more_items: int, more_contacts: int, other_risk: RiskLevel) -> None:
    level, _ = standard.choose(tier, risk, open_items, contacts)
    more, _ = standard.choose(tier, max(risk, other_risk), open_items + more_items,
                              contacts + more_contacts)
    assert RANK[more] >= RANK[level]


@pytest.mark.parametrize(("tier", "risk", "items", "contacts", "expected"), [
    (Tier.C, RiskLevel.LOW, 4, 9, ("light", ["tier_C"])),
    (Tier.C, RiskLevel.LOW, 5, 0, ("standard", ["tier_C", "open_items"])),
    (Tier.D, RiskLevel.MEDIUM, 0, 10, ("standard", ["tier_D", "complexity"])),
    (Tier.B, RiskLevel.HIGH, 0, 0, ("strict", ["tier_B", "risk_high"])),
    (Tier.C, RiskLevel.CRITICAL, 9, 0, ("strict", ["tier_C", "open_items", "risk_critical"])),
    (Tier.A, RiskLevel.CRITICAL, 99, 99, ("strict", ["tier_A"])),
])
def test_the_default_standard_as_the_issue_states_it(
        tier: Tier, risk: RiskLevel, items: int, contacts: int,
        expected: tuple[str, list[str]]) -> None:
    assert HandoverStandard().choose(tier, risk, items, contacts) == expected


def test_the_default_standard_by_tier_and_follow_up_days() -> None:
    standard = HandoverStandard()
    assert standard.tier_levels == TIER_LEVEL
    assert (standard.raise_at_open_items, standard.raise_at_contacts) == (5, 10)
    assert {lv.value: d for lv, d in standard.follow_up_working_days.items()} == {
        "strict": 3, "standard": 7, "light": 14}


@given(standards())
def test_the_standard_survives_a_round_trip_through_json(standard: HandoverStandard) -> None:
    stored = json.loads(json.dumps(standard.to_dict()))
    assert HandoverStandard.from_dict(stored) == standard
    assert HandoverStandard.from_dict(stored).to_dict() == standard.to_dict()


@pytest.mark.parametrize(("change", "pointer", "reason"), [
    ({"raise_at_open_items": 0}, "/raise_at_open_items", "out_of_range"),
    ({"raise_at_contacts": 1001}, "/raise_at_contacts", "out_of_range"),
    ({"satisfaction_pulse_days": 0}, "/satisfaction_pulse_days", "out_of_range"),
    ({"satisfaction_pulse_days": 366}, "/satisfaction_pulse_days", "out_of_range"),
    ({"tier_levels": {"A": "strict", "B": "standard", "C": "light"}}, "/tier_levels",
     "every_tier_needs_a_level"),
    ({"follow_up_working_days": {"strict": 3, "standard": 7}}, "/follow_up_working_days",
     "every_level_needs_days"),
    ({"follow_up_working_days": {"strict": 0, "standard": 7, "light": 14}},
     "/follow_up_working_days", "out_of_range"),
    ({"follow_up_working_days": {"strict": 3, "standard": 61, "light": 14}},
     "/follow_up_working_days", "out_of_range"),
])
def test_an_invalid_standard_is_refused_with_the_field_at_fault(
        change: dict[str, Any], pointer: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        HandoverStandard.from_dict({**HandoverStandard().to_dict(), **change})
    assert [(e.pointer, e.reason) for e in refused.value.field_errors] == [(pointer, reason)]


@given(st.integers(-5, 0) | st.integers(1001, 5000))
def test_thresholds_outside_1_to_1000_are_refused(value: int) -> None:
    with pytest.raises(InvalidInput):
        HandoverStandard(raise_at_open_items=value)


# the handover risk -----------------------------------------------------------------------

@st.composite
def risk_inputs(draw: st.DrawFn) -> RiskInputs:
    return RiskInputs(
        tier=draw(tiers), served_since=NOW - timedelta(days=draw(st.integers(-30, 40 * 365))),
        latest_satisfaction=draw(st.none() | st.integers(1, 5)),
        open_complaints=draw(st.none() | st.integers(0, 50)),
        open_high_risk_changes=draw(st.integers(0, 50)), open_risks=draw(st.integers(0, 50)))


def likelihood_of(inputs: RiskInputs, matrix: RiskMatrix | None = None) -> HandoverRisk:
    return assess(inputs, matrix or RiskMatrix.default(), NOW)


@given(risk_inputs(), matrices())
def test_the_likelihood_is_one_plus_the_points_capped_at_five(inputs: RiskInputs,
                                                               matrix: RiskMatrix) -> None:
    risk = likelihood_of(inputs, matrix)
    assert 1 <= risk.likelihood <= 5
    assert risk.likelihood == min(5, 1 + sum(f.points for f in risk.factors))
    assert risk.impact == IMPACT_BY_TIER[inputs.tier] == {"A": 5, "B": 4, "C": 3,
                                                          "D": 2}[inputs.tier.value]
    assert risk.level == matrix.level(risk.likelihood, risk.impact).label
    assert [f.name for f in risk.factors] == [
        "tier", "years_served", "latest_satisfaction", "open_complaints",
        "open_high_risk_changes", "open_risks"]
    assert all(0 <= f.points <= 2 for f in risk.factors)
    points = {f.name: f.points for f in risk.factors}
    assert points["tier"] == 0
    if inputs.open_complaints is None:
        assert points["open_complaints"] == 0


@given(risk_inputs(), matrices(), st.integers(0, 20), st.integers(0, 20),
       st.integers(0, 20), st.integers(0, 4), st.integers(0, 3650))
def test_more_trouble_never_lowers_the_likelihood_or_the_level(
        inputs: RiskInputs, matrix: RiskMatrix, complaints: int, changes: int, risks: int,
        lower_by: int, longer: int) -> None:
    worse_score = None if inputs.latest_satisfaction is None else max(
        1, inputs.latest_satisfaction - lower_by)
    worse = RiskInputs(
        tier=inputs.tier, served_since=inputs.served_since - timedelta(days=longer),
        latest_satisfaction=worse_score,
        open_complaints=None if inputs.open_complaints is None
        else inputs.open_complaints + complaints,
        open_high_risk_changes=inputs.open_high_risk_changes + changes,
        open_risks=inputs.open_risks + risks)
    before, after = likelihood_of(inputs, matrix), likelihood_of(worse, matrix)
    assert after.likelihood >= before.likelihood
    assert RiskLevel.parse(after.level) >= RiskLevel.parse(before.level)


@pytest.mark.parametrize(("field", "values", "points"), [
    ("open_risks", [0, 1, 2, 3, 9], [0, 1, 1, 2, 2]),
    ("open_high_risk_changes", [0, 1, 2, 7], [0, 1, 2, 2]),
    ("latest_satisfaction", [None, 5, 4, 3, 2, 1], [0, 0, 0, 1, 2, 2]),
    ("open_complaints", [None, 0, 1, 2, 3], [0, 0, 1, 1, 2]),
])
def test_each_factors_points_as_the_issue_states_them(field: str, values: list[Any],
                                                      points: list[int]) -> None:
    base = RiskInputs(Tier.C, NOW, None, None, 0, 0)
    got = []
    for value in values:
        risk = likelihood_of(RiskInputs(**{**base.__dict__, field: value}))
        got.append(next(f.points for f in risk.factors if f.name == field))
    assert got == points


@pytest.mark.parametrize(("days", "points"), [(0, 0), (364, 0), (366, 1), (3 * 365 + 1, 2)])
def test_years_served_earn_points_at_one_and_three_years(days: int, points: int) -> None:
    risk = likelihood_of(RiskInputs(Tier.D, NOW - timedelta(days=days), None, None, 0, 0))
    assert next(f.points for f in risk.factors if f.name == "years_served") == points


# the workflow table ----------------------------------------------------------------------

DEPARTMENT, OTHER_DEPARTMENT = uuid4(), uuid4()
FROM, TO, HEAD, OTHER_HEAD, ADMIN, STRANGER = (uuid4() for _ in range(6))
PEOPLE = {
    "handing_over": Principal(FROM, PrincipalKind.USER, "from", DEPARTMENT,
                              frozenset({Role.ACCOUNT_MANAGER})),
    "receiving": Principal(TO, PrincipalKind.USER, "to", DEPARTMENT,
                           frozenset({Role.ACCOUNT_MANAGER})),
    "head": Principal(HEAD, PrincipalKind.USER, "head", DEPARTMENT,
                      frozenset({Role.DEPARTMENT_HEAD})),
    "other_head": Principal(OTHER_HEAD, PrincipalKind.USER, "other", OTHER_DEPARTMENT,
                            frozenset({Role.DEPARTMENT_HEAD})),
    "admin": Principal(ADMIN, PrincipalKind.USER, "admin", None, frozenset({Role.ADMIN})),
    "stranger": Principal(STRANGER, PrincipalKind.USER, "am", DEPARTMENT,
                          frozenset({Role.ACCOUNT_MANAGER, Role.ANALYST})),
}
SIGNERS = {SignatureRole.HANDING_OVER: FROM, SignatureRole.RECEIVING: TO,
           SignatureRole.DEPARTMENT_HEAD: HEAD}
ITEMS = ("profile", "contacts", "open_change_requests")


@st.composite
def facts(draw: st.DrawFn) -> workflow.Facts:
    """Any handover the table might meet: any state, level, signatures, findings,
    verifications, notifications and meeting, and a present or departed manager."""
    level = draw(levels)
    items = []
    for position, key in enumerate(ITEMS, 1):
        item = ChecklistItem(key, position, {})
        if draw(st.booleans()):
            item.handing_over_verified_by, item.handing_over_verified_at = FROM, NOW
        if draw(st.booleans()):
            item.receiving_verified_by, item.receiving_verified_at = TO, NOW
        items.append(item)
    findings = [Finding(uuid4(), draw(st.sampled_from(ITEMS)), TO, "缺少资料", NOW,
                        resolved_at=draw(st.none() | st.just(NOW)))
                for _ in range(draw(st.integers(0, 2)))]
    signed = draw(st.sets(st.sampled_from(list(SignatureRole))))
    signatures = [Signature(role, SIGNERS[role], NOW) for role in sorted(signed)]
    notified = draw(st.sets(st.sampled_from(list(Stakeholder))))
    h = Handover(
        id=uuid4(), batch_id=None, customer_id=uuid4(), customer_name="客户",
        department_id=DEPARTMENT, from_manager_id=FROM, to_manager_id=TO,
        reason=HandoverReason.RESIGNATION, planned_date=None, note="", level=level,
        level_reasons=[], risk=HandoverRisk(1, 3, "low", ()),
        state=draw(st.sampled_from(list(HandoverState))), created_by=FROM, created_at=NOW,
        updated_at=NOW, version=1,
        meeting_held_at=draw(st.none() | st.just(NOW)), items=items, findings=findings,
        signatures=signatures,
        notifications=[Notification(uuid4(), s, None, None, "email", NOW, FROM)
                       for s in sorted(notified)])
    return workflow.Facts(h, draw(st.booleans()))


def verdict(f: workflow.Facts, name: str, who: Principal) -> type[DomainError] | None:
    try:
        workflow.check(f, name, who)
    except DomainError as refused:
        return type(refused)
    return None


@given(facts(), st.sampled_from(sorted(PEOPLE)))
def test_allowed_actions_are_exactly_the_actions_check_accepts(f: workflow.Facts,
                                                               who: str) -> None:
    principal = PEOPLE[who]
    allowed = workflow.allowed_actions(f, principal)
    assert allowed == sorted(allowed)
    for name in workflow.ACTIONS:
        assert (verdict(f, name, principal) is None) == (name in allowed), name
    assert set(allowed) <= set(workflow.allowed_in_state(f.handover.state))


@given(facts(), st.sampled_from(sorted(workflow.ACTIONS)), st.sampled_from(sorted(PEOPLE)))
def test_an_action_from_a_state_it_does_not_leave_is_not_allowed_for_anyone(
        f: workflow.Facts, name: str, who: str) -> None:
    assume(f.handover.state not in workflow.ACTIONS[name].sources)
    with pytest.raises(TransitionNotAllowed):
        workflow.check(f, name, PEOPLE[who])


@given(facts(), st.sampled_from(sorted(workflow.ACTIONS)))
def test_outsiders_may_never_act(f: workflow.Facts, name: str) -> None:
    for who in ("stranger", "other_head"):
        assert verdict(f, name, PEOPLE[who]) is not None
        assert workflow.allowed_actions(f, PEOPLE[who]) == []


@given(facts(), st.sampled_from(sorted(PEOPLE)))
def test_a_signature_is_only_ever_a_missing_one_and_never_a_second(
        f: workflow.Facts, who: str) -> None:
    principal = PEOPLE[who]
    try:
        role, on_behalf_of = workflow.signature_role(f, principal)
    except workflow.AlreadySigned:
        assert any(s.signer_id == principal.id for s in f.handover.signatures)
        return
    except NotYourAction:
        return
    assert role in f.handover.missing_signatures()
    if on_behalf_of is not None:  # only a head, only for a departed handing-over manager
        assert (who, role, on_behalf_of, f.from_manager_active) == (
            "head", SignatureRole.HANDING_OVER, FROM, False)
    else:  # a second signature is only ever a head's for a departed manager
        assert all(s.signer_id != principal.id for s in f.handover.signatures)


@given(facts())
def test_signing_needs_the_meeting_no_open_findings_and_verified_materials(
        f: workflow.Facts) -> None:
    h = f.handover
    for principal in PEOPLE.values():
        if verdict(f, "sign", principal) is None:
            assert h.state in (HandoverState.PREPARING, HandoverState.MEETING_HELD)
            assert not h.open_findings() and not h.unverified_items()
            assert h.meeting_held_at is not None or not h.requirements.meeting


def test_every_actions_sources_parties_and_target_exist() -> None:
    states, parties = set(HandoverState), set(workflow.Party)
    for name, action in workflow.ACTIONS.items():
        assert action.name == name
        assert action.sources and action.sources <= states, name
        assert action.parties and action.parties <= parties, name
        assert action.target is None or action.target in states, name
        assert HandoverState.CANCELLED not in action.sources, name  # cancelled is final
        assert HandoverState.FOLLOWED_UP not in action.sources, name  # and so is followed_up
    # every state but the final ones and ``signed`` (passed through in one transaction)
    # is left by some action; every state but ``draft`` and ``signed`` is reached by one
    left = {s for a in workflow.ACTIONS.values() for s in a.sources}
    reached = {a.target for a in workflow.ACTIONS.values() if a.target}
    assert left == states - {HandoverState.SIGNED, HandoverState.CANCELLED,
                             HandoverState.FOLLOWED_UP}
    assert reached | {HandoverState.DRAFT, HandoverState.SIGNED, HandoverState.TRANSFERRED} \
        == states
    assert workflow.ACTIONS["cancel"].sources.isdisjoint(
        {HandoverState.TRANSFERRED, HandoverState.FOLLOWED_UP})


# working days ----------------------------------------------------------------------------

instants = st.datetimes(datetime(2021, 1, 1), datetime(2026, 12, 31),
                        timezones=st.just(UTC))


@given(instants, st.integers(1, 60))
def test_a_follow_up_falls_due_on_a_working_day_after_exactly_that_many(
        start: datetime, days: int) -> None:
    due = CALENDAR.add_working_days(start, days)
    first = CALENDAR.local_date(start)
    assert due > first and CALENDAR.is_working_day(due)
    between = [first + timedelta(days=n) for n in range(1, (due - first).days + 1)]
    assert sum(CALENDAR.is_working_day(d) for d in between) == days


@given(instants, st.integers(0, 40), st.integers(0, 40))
def test_more_working_days_fall_due_later(start: datetime, days: int, more: int) -> None:
    earlier, later = (CALENDAR.add_working_days(start, n) for n in (days, days + more))
    assert later >= earlier
    assert (later > earlier) == (more > 0)


@given(instants)
def test_zero_working_days_is_the_same_local_day(start: datetime) -> None:
    assert CALENDAR.add_working_days(start, 0) == CALENDAR.local_date(start)


def test_the_local_day_counts_not_the_utc_day() -> None:
    # 23:30 UTC on Thursday 26 Nov 2026 is already Friday 27 Nov in Shanghai: the first
    # working day after it is Monday 30 Nov, not Friday.
    late = datetime.combine(date(2026, 11, 26), time(23, 30), UTC)
    assert CALENDAR.add_working_days(late, 1) == date(2026, 11, 30)
    with pytest.raises(ValueError):
        CALENDAR.add_working_days(late, -1)


def test_follow_up_days_by_level_across_the_national_day_holiday() -> None:
    # Transferred Wed 30 Sep 2026: 1–7 Oct are holidays, Sat 10 Oct is a 调休 working day.
    transferred = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
    days = HandoverStandard().follow_up_working_days
    due = {lv.value: CALENDAR.add_working_days(transferred, days[lv]) for lv in HandoverLevel}
    assert due == {"strict": date(2026, 10, 10), "standard": date(2026, 10, 15),
                   "light": date(2026, 10, 26)}



# what each action does (effects.apply) ------------------------------------------------------

CONTACT = uuid4()
Step = tuple[str, str, int]  # (action, who, a pick among items, findings and stakeholders)
action_steps = st.lists(st.tuples(st.sampled_from(sorted(workflow.ACTIONS)),
                                  st.sampled_from(sorted(PEOPLE)), st.integers(0, 5)),
                        max_size=10)


def inputs_for(h: Handover, pick: int) -> effects.Inputs:
    """Inputs valid for whichever action takes them, varied by ``pick``."""
    stakeholder = sorted(Stakeholder)[pick % len(Stakeholder)]
    return effects.Inputs(
        notification=effects.NotificationInput(
            stakeholder, "email",
            CONTACT if stakeholder is Stakeholder.CUSTOMER_CONTACT else None,
            live_contacts=frozenset({CONTACT})),
        meeting=effects.MeetingInput(NOW.date(), ["交接人", "接收人"], "逐项核对"),
        follow_up=effects.FollowUpInput(NOW.date(), "phone", "满意"),
        reason="调岗取消", item_key=ITEMS[pick % len(ITEMS)], text="缺少合同",
        finding_id=h.findings[pick % len(h.findings)].id if h.findings else None,
        resolution="已补齐")


def prepared(level: HandoverLevel, state: HandoverState = HandoverState.PREPARING, *,
             manager_active: bool = True,
             signed: tuple[SignatureRole, ...] = ()) -> workflow.Facts:
    """A handover with every item verified by both and the meeting held: in preparation,
    only signatures are missing."""
    items = [ChecklistItem(key, position, {}, FROM, NOW, TO, NOW)
             for position, key in enumerate(ITEMS, 1)]
    h = Handover(
        id=uuid4(), batch_id=None, customer_id=uuid4(), customer_name="客户",
        department_id=DEPARTMENT, from_manager_id=FROM, to_manager_id=TO,
        reason=HandoverReason.RESIGNATION, planned_date=None, note="", level=level,
        level_reasons=[], risk=HandoverRisk(1, 3, "low", ()), state=state,
        created_by=FROM, created_at=NOW, updated_at=NOW, version=1, meeting_held_at=NOW,
        items=items, signatures=[Signature(role, SIGNERS[role], NOW) for role in signed])
    return workflow.Facts(h, manager_active)


def take(f: workflow.Facts, name: str, who: str, pick: int) -> workflow.Facts:
    """One step as a use case takes it (the transfer included), checked against the table:
    the handover given is never changed, the state moves only along the table, a signature
    is one new person in one missing role, and the transfer comes with the last one."""
    h = f.handover
    kept = deepcopy(h)
    try:
        outcome = effects.apply(f, name, PEOPLE[who], NOW, inputs_for(h, pick))
    except DomainError:
        assert h == kept
        return f
    assert h == kept
    new = outcome.handover
    action = workflow.ACTIONS[name]
    assert h.state in action.sources
    assert new.version == h.version and new.id == h.id
    if name == "sign":
        [signature] = [s for s in new.signatures if s not in h.signatures]
        assert signature.signer_id == PEOPLE[who].id and signature.signed_at == NOW
        assert signature.role in h.missing_signatures()
        assert new.signatures == [*h.signatures, signature]
        assert outcome.transfer_due == (not new.missing_signatures())
    else:
        assert new.signatures == h.signatures and not outcome.transfer_due
    if outcome.transfer_due:
        assert (new.state, new.signed_at) == (HandoverState.SIGNED, NOW)
        assert [e.name for e in outcome.told()] == ["signature_given", "signed"]
        new = effects.transferred(new, NOW, {}, HandoverStandard(), CALENDAR).handover
        assert new.state is HandoverState.TRANSFERRED and new.follow_up_due is not None
    else:
        assert new.state is (action.target or h.state)
        assert new.state not in (HandoverState.SIGNED, HandoverState.TRANSFERRED) \
            or new.state is h.state
    roles = [s.role for s in new.signatures]
    assert len(set(roles)) == len(roles)
    # one signature a person, but a head's second one, for the departed manager
    twice = [s for s in new.signatures
             if [t.signer_id for t in new.signatures].count(s.signer_id) > 1]
    assert all(s.signer_id == HEAD for s in twice)
    assert [(s.role, s.on_behalf_of) for s in twice] in (
        [], [(SignatureRole.DEPARTMENT_HEAD, None), (SignatureRole.HANDING_OVER, FROM)])
    return workflow.Facts(new, f.from_manager_active)


@settings(deadline=None)
@example(prepared(HandoverLevel.STRICT, manager_active=False),
         [("sign", "head", 0), ("sign", "head", 0), ("sign", "head", 0),
          ("sign", "receiving", 0)])
@example(prepared(HandoverLevel.STRICT),
         [("sign", "handing_over", 0), ("sign", "receiving", 0), ("sign", "head", 0),
          ("follow_up", "receiving", 0)])
@example(prepared(HandoverLevel.STANDARD, signed=(SignatureRole.RECEIVING,)),
         [("sign", "receiving", 0), ("sign", "head", 0), ("sign", "handing_over", 0)])
@example(prepared(HandoverLevel.LIGHT), [("sign", "receiving", 0)])
@example(prepared(HandoverLevel.STRICT, HandoverState.DRAFT),
         [*(("record_notification", "handing_over", pick) for pick in range(4)),
          ("notify", "handing_over", 0), ("start_preparation", "head", 0),
          ("hold_meeting", "receiving", 0), ("cancel", "admin", 0)])
@given(facts(), action_steps)
def test_no_sequence_signs_twice_or_transfers_early_and_states_follow_the_table(
        f: workflow.Facts, steps: list[Step]) -> None:
    for name, who, pick in steps:
        f = take(f, name, who, pick)


@pytest.mark.parametrize(("level", "active", "signers", "transferred", "heads"), [
    # the boundary of each level: one signature short, then the last
    (HandoverLevel.LIGHT, True, ["receiving"], True, []),
    (HandoverLevel.STANDARD, True, ["receiving"], False, []),
    (HandoverLevel.STANDARD, True, ["receiving", "handing_over"], True, []),
    (HandoverLevel.STRICT, True, ["receiving", "handing_over"], False, []),
    (HandoverLevel.STRICT, True, ["receiving", "handing_over", "head"], True,
     [(SignatureRole.DEPARTMENT_HEAD, None)]),
    # a head signs for a departed manager where no head signature is asked for ...
    (HandoverLevel.STANDARD, False, ["head", "receiving"], True,
     [(SignatureRole.HANDING_OVER, FROM)]),
    # ... and in both capacities where one is (the resignation story with one head)
    (HandoverLevel.STRICT, False, ["head", "head", "receiving"], True,
     [(SignatureRole.DEPARTMENT_HEAD, None), (SignatureRole.HANDING_OVER, FROM)]),
    (HandoverLevel.STRICT, False, ["receiving", "head", "head"], True,
     [(SignatureRole.DEPARTMENT_HEAD, None), (SignatureRole.HANDING_OVER, FROM)]),
    # while the manager is still there, the head signs once, as the head
    (HandoverLevel.STRICT, True, ["head", "head", "receiving"], False,
     [(SignatureRole.DEPARTMENT_HEAD, None)]),
])
def test_the_transfer_comes_with_the_last_required_signature_and_not_before(
        level: HandoverLevel, active: bool, signers: list[str], transferred: bool,
        heads: list[tuple[SignatureRole, Any]]) -> None:
    f = prepared(level, manager_active=active)
    for who in signers:
        f = take(f, "sign", who, 0)
    assert (f.handover.state is HandoverState.TRANSFERRED) == transferred
    assert [(s.role, s.on_behalf_of) for s in f.handover.signatures
            if s.signer_id == HEAD] == heads


@pytest.mark.parametrize(("active", "signed", "waiting_for"), [
    (True, (SignatureRole.DEPARTMENT_HEAD,), "handing_over, receiving"),
    (False, (SignatureRole.DEPARTMENT_HEAD, SignatureRole.HANDING_OVER), "receiving"),
])
def test_a_repeated_signature_is_told_who_still_has_to_sign(
        active: bool, signed: tuple[SignatureRole, ...], waiting_for: str) -> None:
    f = prepared(HandoverLevel.STRICT, manager_active=active)
    f = workflow.Facts(replace(f.handover, signatures=[
        Signature(role, HEAD, NOW, None if role is SignatureRole.DEPARTMENT_HEAD else FROM)
        for role in signed]), active)
    with pytest.raises(workflow.AlreadySigned) as refused:
        workflow.check(f, "sign", PEOPLE["head"])
    assert refused.value.params == {"state": "signature_given", "waiting_for": waiting_for,
                                    "signed_as": ", ".join(signed)}


@given(facts(), st.sampled_from(sorted(workflow.ACTIONS)), st.sampled_from(sorted(PEOPLE)),
       st.integers(0, 5))
def test_apply_refuses_whatever_check_refuses_and_the_same_way(
        f: workflow.Facts, name: str, who: str, pick: int) -> None:
    refused = verdict(f, name, PEOPLE[who])
    try:
        effects.apply(f, name, PEOPLE[who], NOW, inputs_for(f.handover, pick))
    except DomainError as error:
        assert refused is None or type(error) is refused
        return
    assert refused is None


def test_every_action_has_one_effect_and_the_transitions_are_the_state_moves() -> None:
    assert set(effects.EFFECTS) == set(workflow.ACTIONS)
    assert sorted(effects.TRANSITIONS) == ["cancel", "follow_up", "hold_meeting", "notify",
                                           "start_preparation"]
