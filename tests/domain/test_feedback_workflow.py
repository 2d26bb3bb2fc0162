"""The feedback loop (domain §6) without a database: every action from every state, for
every party and non-party, and what ``apply`` records on the item."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.domain.access.principal import Principal, PrincipalKind
from app.domain.access.roles import Role, Scope
from app.domain.common.errors import (
    DomainError,
    InvalidInput,
    NotYourAction,
    TransitionNotAllowed,
)
from app.domain.feedback.model import (
    FeedbackChannel,
    FeedbackItem,
    FeedbackState,
    FeedbackType,
    Severity,
)
from app.domain.feedback.workflow import ACTIONS, allowed_actions, allowed_in_state, apply, check

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
EAST, WEST = uuid.uuid4(), uuid.uuid4()
S = FeedbackState

# The whole table, written out by hand: (action, from) -> to.
EXPECTED = {
    ("acknowledge", S.RECEIVED): S.ACKNOWLEDGED,
    ("start", S.ACKNOWLEDGED): S.IN_PROGRESS,
    ("resolve", S.IN_PROGRESS): S.RESOLVED,
    ("confirm", S.RESOLVED): S.CONFIRMED,
    ("reopen", S.RESOLVED): S.IN_PROGRESS,
    ("reopen", S.CONFIRMED): S.IN_PROGRESS,
}


def person(*roles: Role, department: uuid.UUID = EAST) -> Principal:
    return Principal(uuid.uuid4(), PrincipalKind.USER, "p", department, frozenset(roles))


OWNER = person(Role.ACCOUNT_MANAGER)
HEAD = person(Role.DEPARTMENT_HEAD)
ADMIN = person(Role.ADMIN, department=WEST)
PARTIES = {"owner": OWNER, "department_head": HEAD, "admin": ADMIN}
OUTSIDERS = {
    "other account manager": person(Role.ACCOUNT_MANAGER),
    "head of another department": person(Role.DEPARTMENT_HEAD, department=WEST),
    "executive": person(Role.EXECUTIVE),
    "analyst": person(Role.ANALYST),
    "service account": Principal(uuid.uuid4(), PrincipalKind.SERVICE, "k", None,
                                 scopes=frozenset(Scope)),
}


def item(state: FeedbackState = S.RECEIVED, **changes: object) -> FeedbackItem:
    base = FeedbackItem(id=uuid.uuid4(), customer_id=uuid.uuid4(), department_id=EAST,
                        owner_id=OWNER.id, channel=FeedbackChannel.PHONE,
                        type=FeedbackType.COMPLAINT,
                        severity=Severity.HIGH, summary="invoice wrong", state=state,
                        received_at=NOW - timedelta(days=3))
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_table_is_the_documented_loop() -> None:
    table = {(a.name, s): a.target for a in ACTIONS.values() for s in a.sources}
    assert table == EXPECTED


@pytest.mark.parametrize("party", list(PARTIES))
@pytest.mark.parametrize("state", list(FeedbackState))
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_from_every_state_for_each_party(action: str, state: FeedbackState,
                                                      party: str) -> None:
    principal = PARTIES[party]
    target = EXPECTED.get((action, state))
    if target is None:
        with pytest.raises(TransitionNotAllowed) as caught:
            check(item(state), action, principal)
        assert caught.value.params == {"action": action, "state": state,
                                       "allowed": ", ".join(allowed_in_state(state)) or "none"}
        assert action not in allowed_actions(item(state), principal)
    else:
        assert check(item(state), action, principal) is target
        assert action in allowed_actions(item(state), principal)


@pytest.mark.parametrize("outsider", list(OUTSIDERS))
@pytest.mark.parametrize(("action", "state"), list(EXPECTED))
def test_nobody_else_may_act(action: str, state: FeedbackState, outsider: str) -> None:
    with pytest.raises(NotYourAction) as caught:
        check(item(state), action, OUTSIDERS[outsider])
    assert caught.value.code == "action_not_permitted"
    assert caught.value.params == {"action": action,
                                   "parties": "admin, department_head, owner"}
    assert allowed_actions(item(state), OUTSIDERS[outsider]) == []


def test_an_unknown_action_is_not_allowed() -> None:
    with pytest.raises(TransitionNotAllowed):
        check(item(), "close", ADMIN)


def test_confirmed_allows_only_reopen_and_received_only_acknowledge() -> None:
    assert allowed_in_state(S.CONFIRMED) == ["reopen"]
    assert allowed_actions(item(S.RECEIVED), OWNER) == ["acknowledge"]
    assert allowed_actions(item(S.RESOLVED), HEAD) == ["confirm", "reopen"]


def test_the_whole_loop_records_its_timestamps() -> None:
    contact = uuid.uuid4()
    acknowledged = apply(item(), "acknowledge", OWNER, NOW)
    assert acknowledged.state is S.ACKNOWLEDGED and acknowledged.acknowledged_at == NOW
    started = apply(acknowledged, "start", OWNER, NOW + timedelta(hours=1))
    resolved = apply(started, "resolve", HEAD, NOW + timedelta(hours=2),
                     resolution="  credit note issued ")
    assert resolved.resolution == "credit note issued"
    assert resolved.resolved_at == NOW + timedelta(hours=2)
    confirmed = apply(resolved, "confirm", OWNER, NOW + timedelta(days=1),
                      contact_id=contact, agreed_at=NOW + timedelta(hours=3),
                      live_contacts=frozenset({contact}))
    assert confirmed.state is S.CONFIRMED
    assert confirmed.confirmed_at == NOW + timedelta(hours=3)
    assert confirmed.confirmation is not None
    assert (confirmed.confirmation.recorded_by, confirmed.confirmation.recorded_at,
            confirmed.confirmation.contact_id) == (OWNER.id, NOW + timedelta(days=1), contact)
    reopened = apply(confirmed, "reopen", ADMIN, NOW + timedelta(days=40), reason="again")
    assert reopened.state is S.IN_PROGRESS and reopened.reopen_count == 1
    assert (reopened.resolved_at, reopened.confirmed_at, reopened.confirmation,
            reopened.resolution) == (None, None, None, "")
    assert reopened.reopened_at == NOW + timedelta(days=40)
    assert reopened.acknowledged_at == NOW  # acknowledged once: that clock stays met
    assert reopened.is_open


@pytest.mark.parametrize(("action", "state", "inputs", "pointer", "reason"), [
    ("resolve", S.IN_PROGRESS, {}, "/resolution", "missing"),
    ("resolve", S.IN_PROGRESS, {"resolution": "   "}, "/resolution", "missing"),
    ("resolve", S.IN_PROGRESS, {"resolution": "x" * 5001}, "/resolution", "string_too_long"),
    ("reopen", S.RESOLVED, {}, "/reason", "missing"),
    ("confirm", S.RESOLVED, {}, "/contact_id", "missing"),
    ("confirm", S.RESOLVED, {"note": "Mr Li, by phone", "agreed_at": NOW + timedelta(hours=1)},
     "/agreed_at", "out_of_range"),
    ("confirm", S.RESOLVED, {"note": "Mr Li", "agreed_at": NOW - timedelta(days=2)},
     "/agreed_at", "out_of_range"),
])
def test_actions_refuse_missing_inputs_with_the_field(action: str, state: FeedbackState,
                                                      inputs: dict, pointer: str,
                                                      reason: str) -> None:
    record = item(state, resolved_at=NOW - timedelta(days=1), resolution="done")
    with pytest.raises(InvalidInput) as caught:
        apply(record, action, OWNER, NOW, **inputs)
    assert [(e.pointer, e.reason) for e in caught.value.field_errors] == [(pointer, reason)]


def test_a_note_may_stand_for_the_contact() -> None:
    record = item(S.RESOLVED, resolved_at=NOW - timedelta(days=1), resolution="done")
    confirmed = apply(record, "confirm", OWNER, NOW, note="Mr Li, in the review meeting")
    assert confirmed.confirmed_at == NOW and confirmed.confirmation is not None
    assert confirmed.confirmation.contact_id is None
    assert confirmed.confirmation.note == "Mr Li, in the review meeting"


def test_apply_checks_the_transition_first() -> None:
    with pytest.raises(TransitionNotAllowed):
        apply(item(S.CONFIRMED), "resolve", OWNER, NOW, resolution="x")
    with pytest.raises(NotYourAction):
        apply(item(S.IN_PROGRESS), "resolve", OUTSIDERS["executive"], NOW, resolution="x")


def test_a_confirmation_names_a_live_contact_of_the_customer() -> None:
    """Who agreed must be one of the customer's contacts still on record (an erased or
    another customer's contact is refused); naming them in a note needs no contact."""
    resolved = item(S.RESOLVED, resolved_at=NOW - timedelta(days=1), resolution="done")
    known, other = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(InvalidInput) as refused:
        apply(resolved, "confirm", OWNER, NOW, contact_id=other, live_contacts=frozenset({known}))
    assert [(e.pointer, e.reason) for e in refused.value.field_errors] == [
        ("/contact_id", "contact_unknown")]
    assert apply(resolved, "confirm", OWNER, NOW, contact_id=known,
                 live_contacts=frozenset({known})).state is S.CONFIRMED
    assert apply(resolved, "confirm", OWNER, NOW, note="王经理电话确认").state is S.CONFIRMED


# apply as a property: any sequence of attempts ---------------------------------------

ATTEMPTS = st.lists(st.tuples(st.sampled_from([*sorted(ACTIONS), "escalate"]),
                              st.sampled_from(sorted({**PARTIES, **OUTSIDERS}))),
                    max_size=12)


@settings(max_examples=150, deadline=None)
@given(ATTEMPTS)
@example([("acknowledge", "owner"), ("start", "department_head"), ("resolve", "admin"),
          ("confirm", "owner"), ("reopen", "owner"), ("resolve", "owner")])
@example([("resolve", "owner"), ("acknowledge", "executive"), ("reopen", "admin")])
def test_apply_moves_only_along_the_table_and_never_changes_its_input(
        attempts: list[tuple[str, str]]) -> None:
    """Whatever is attempted, by whom: ``apply`` refuses exactly what ``check`` refuses,
    lands on the table's target, leaves the item it was given untouched, and its
    timestamps never run backwards; only a reopen counts as one."""
    current = item()
    for step, (name, who) in enumerate(attempts):
        principal = {**PARTIES, **OUTSIDERS}[who]
        now = NOW + timedelta(hours=step)
        before = replace(current)
        try:
            expected = check(current, name, principal)
        except DomainError as refused:
            with pytest.raises(type(refused)):
                apply(current, name, principal, now, resolution="done", reason="again",
                      note="王经理电话确认")
            assert current == before
            continue
        after = apply(current, name, principal, now, resolution="done", reason="again",
                      note="王经理电话确认")
        assert current == before
        assert after.state is expected is EXPECTED[(name, current.state)]
        assert after.reopen_count == current.reopen_count + (name == "reopen")
        stamps = [after.acknowledged_at, after.resolved_at, after.confirmed_at]
        assert all(t is None or t <= now for t in stamps)
        current = after
