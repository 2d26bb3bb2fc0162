"""Approval chains (变更审批): the administrator's policy derives the chain from the concluded
assessment; steps are decided in order by their role; the last approval approves the
change, a rejection or a return ends the round."""

from __future__ import annotations

import pytest

from app.domain.access.roles import Role
from app.domain.change_requests.approval_policy import (
    ApprovalOutOfOrder,
    ApproverAlreadyDecided,
    ApproverRoleMismatch,
)
from app.domain.change_requests.model import CRCategory, CRState, StepStatus
from tests.usecases.flows import act, awaiting_approval, decide
from tests.usecases.world import World

HEAD, FINANCE, EXECUTIVE = Role.DEPARTMENT_HEAD, Role.FINANCE, Role.EXECUTIVE
APPROVER = {HEAD: "head_east", FINANCE: "finance", EXECUTIVE: "executive"}


@pytest.mark.parametrize(("cost", "likelihood", "impact", "category", "chain"), [
    ("49999.99", 1, 1, CRCategory.SCOPE, [HEAD]),
    ("50000", 1, 1, CRCategory.SCOPE, [HEAD, FINANCE]),  # finance from 50,000 itself
    ("499999.99", 1, 1, CRCategory.SCOPE, [HEAD, FINANCE]),
    ("500000", 1, 1, CRCategory.SCOPE, [HEAD, FINANCE, EXECUTIVE]),  # executive from 500,000
    ("10000", 4, 4, CRCategory.SCOPE, [HEAD, EXECUTIVE]),  # high risk
    ("10000", 2, 2, CRCategory.SCOPE, [HEAD]),  # medium risk
    ("10000", 1, 1, CRCategory.PRICE_CONTRACT, [HEAD, EXECUTIVE]),
])
async def test_the_policy_derives_the_chain_from_the_assessment(
        world: World, cost: str, likelihood: int, impact: int, category: CRCategory,
        chain: list[Role]) -> None:
    view = await awaiting_approval(world, cost=cost, likelihood=likelihood, impact=impact,
                                   category=category)
    assert [(s.position, s.role) for s in view.cr.steps] == list(enumerate(chain, 1))
    assert view.cr.steps[0].department_id == world.departments["east"]
    assert all(s.department_id is None for s in view.cr.steps[1:])
    [concluded] = world.store.events("change_request.assessment_concluded")
    assert concluded.data["chain"] == [str(r) for r in chain]


async def test_steps_are_decided_in_order_and_the_last_approval_approves(
        world: World) -> None:
    view = await awaiting_approval(world, cost="600000")
    with pytest.raises(ApprovalOutOfOrder):
        await decide(world, "finance", view, position=2)
    with pytest.raises(ApproverRoleMismatch):
        await decide(world, "finance", view)  # the current step is the head's
    for position, role in enumerate((HEAD, FINANCE, EXECUTIVE), 1):
        assert view.cr.state is CRState.AWAITING_APPROVAL
        assert view.cr.facts().current_step().position == position  # type: ignore[union-attr]
        view = await decide(world, APPROVER[role], view)
    assert view.cr.state is CRState.APPROVED
    assert [s.status for s in view.cr.steps] == [StepStatus.APPROVED] * 3
    assert [s.decided_by for s in view.cr.steps] == [world.id(APPROVER[r])
                                                     for r in (HEAD, FINANCE, EXECUTIVE)]
    assert len(world.store.events("change_request.step_approved")) == 2
    assert len(world.store.events("change_request.approved")) == 1


async def test_one_person_decides_one_step_of_a_chain(world: World) -> None:
    view = await awaiting_approval(world, cost="80000")
    view = await decide(world, "head_and_finance", view)
    with pytest.raises(ApproverAlreadyDecided):
        await decide(world, "head_and_finance", view)
    view = await decide(world, "finance", view)
    assert view.cr.state is CRState.APPROVED


async def test_a_rejection_ends_the_change_and_leaves_later_steps_undecided(
        world: World) -> None:
    view = await awaiting_approval(world, cost="80000")
    view = await decide(world, "head_east", view, "reject")
    assert view.cr.state is CRState.REJECTED
    assert [s.status for s in view.cr.steps] == [StepStatus.REJECTED, StepStatus.PENDING]
    assert view.allowed_actions == []


async def test_a_return_sends_it_back_and_a_resubmission_starts_a_new_round(
        world: World) -> None:
    view = await awaiting_approval(world, cost="80000")
    view = await decide(world, "head_east", view)
    view = await decide(world, "finance", view, "return")
    assert view.cr.state is CRState.RETURNED
    assert [s.status for s in view.cr.steps] == [StepStatus.APPROVED, StepStatus.RETURNED]

    view = await act(world, "am_east", view, "submit")
    assert (view.cr.state, view.cr.round, view.cr.steps) == (CRState.SUBMITTED, 2, [])
