"""The competence check as the workflows ask it: a rule names a duty (and a role), the
actor must hold the course through its last valid day, none given means no check; a
handover needs it for the department head's signature only, feedback for ``resolve``
only."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app.domain.access.roles import Role
from app.domain.common.errors import DomainError
from app.domain.feedback import workflow as feedback
from app.domain.feedback.model import FeedbackState
from app.domain.handovers import workflow as handovers
from app.domain.handovers.model import SignatureRole
from app.domain.training.competence import (
    Competence,
    CompetenceRules,
    Duty,
    Rule,
    TrainingRequired,
    require,
)
from tests.domain.test_feedback_workflow import OWNER, item
from tests.domain.test_handover_rules import PEOPLE, facts

COURSE = uuid.uuid4()
DAY = date(2026, 6, 30)


def held(duty: Duty, role: Role | None = None, through: date | None = None,
         today: date = DAY) -> Competence:
    return Competence((Rule(duty, COURSE, role),), {COURSE: "客户服务规范"},
                      {} if through is None else {COURSE: through}, today)


@given(st.integers(-400, 400))
@example(0)
@example(-1)
def test_a_completion_counts_through_its_last_day(offset: int) -> None:
    """``offset``: days from the last valid day to today."""
    competence = held(Duty.RESOLVE_FEEDBACK, through=DAY - timedelta(days=offset))
    if offset <= 0:
        require(competence, Duty.RESOLVE_FEEDBACK)
    else:
        with pytest.raises(TrainingRequired) as refused:
            require(competence, Duty.RESOLVE_FEEDBACK)
        assert refused.value.extensions["reason"] == "lapsed"


def test_a_refusal_names_the_course_and_other_duties_or_roles_are_not_asked() -> None:
    with pytest.raises(TrainingRequired) as refused:
        require(held(Duty.APPROVE_CHANGE, Role.FINANCE), Duty.APPROVE_CHANGE, Role.FINANCE)
    assert refused.value.extensions == {
        "course_id": str(COURSE), "course_title": "客户服务规范", "duty": "change_request.approve",
        "reason": "missing", "valid_through": None}
    assert refused.value.code == "training_required"
    require(held(Duty.APPROVE_CHANGE, Role.FINANCE), Duty.APPROVE_CHANGE, Role.EXECUTIVE)
    require(held(Duty.APPROVE_CHANGE), Duty.RESOLVE_FEEDBACK)
    require(None, Duty.APPROVE_CHANGE, Role.FINANCE)


def test_rules_are_off_by_default_and_survive_json() -> None:
    rules = CompetenceRules(True, (Rule(Duty.SIGN_HANDOVER, COURSE, Role.DEPARTMENT_HEAD),))
    assert CompetenceRules.from_dict(rules.to_dict()) == rules
    assert CompetenceRules().for_duty(Duty.SIGN_HANDOVER) == ()
    assert CompetenceRules(False, rules.rules).for_duty(Duty.SIGN_HANDOVER) == ()


@pytest.mark.parametrize("state", [FeedbackState.IN_PROGRESS, FeedbackState.RESOLVED])
def test_feedback_needs_the_course_to_resolve_only(state: FeedbackState) -> None:
    untrained = held(Duty.RESOLVE_FEEDBACK)
    feedback_item = item(state)
    if state is FeedbackState.IN_PROGRESS:
        with pytest.raises(TrainingRequired):
            feedback.check(feedback_item, "resolve", OWNER, untrained)
        assert feedback.check(feedback_item, "resolve", OWNER,
                              held(Duty.RESOLVE_FEEDBACK, through=DAY)) is FeedbackState.RESOLVED
    else:
        assert feedback.check(feedback_item, "confirm", OWNER, untrained) is \
            FeedbackState.CONFIRMED


@given(facts(), st.sampled_from(sorted(PEOPLE)))
def test_a_handover_needs_the_course_for_the_heads_signature_only(
        f: handovers.Facts, who: str) -> None:
    principal = PEOPLE[who]
    try:
        decision = handovers.check(f, "sign", principal)
    except DomainError:
        return
    untrained = held(Duty.SIGN_HANDOVER, Role.DEPARTMENT_HEAD)
    if decision.capacity is SignatureRole.DEPARTMENT_HEAD:
        with pytest.raises(TrainingRequired):
            handovers.check(f, "sign", principal, untrained)
    else:
        assert handovers.check(f, "sign", principal, untrained) == decision
