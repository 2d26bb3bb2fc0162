"""Delegation (代理审批): while a department head is away, a deputy holding the same role
decides their steps, recorded as on behalf of them; only while the delegation is in force,
and never to approve a change the deputy or the delegator requested."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.access.roles import Role
from app.domain.change_requests.approval_policy import SelfApprovalForbidden
from app.domain.change_requests.model import CRState, StepStatus
from app.domain.common.errors import NotFound
from app.services.change_requests import View
from tests.usecases.flows import awaiting_approval, decide, read
from tests.usecases.world import World


async def _delegate(world: World, delegator: str, deputy: str, *, starts_in: timedelta,
                    lasts: timedelta) -> dict[str, object]:
    starts = world.clock.now() + starts_in
    return await world.delegations.create(
        world.ctx(delegator), world.id(delegator), world.id(deputy), Role.DEPARTMENT_HEAD,
        starts, starts + lasts)


async def _still_pending(world: World, view: View) -> None:
    again = await read(world, "head_east", view)
    assert again.cr.state is CRState.AWAITING_APPROVAL
    assert [s.status for s in again.cr.steps] == [StepStatus.PENDING]
    assert world.store.events("change_request.approved") == []


async def test_a_deputy_in_force_decides_for_the_delegator_recorded_on_their_behalf(
        world: World) -> None:
    view = await awaiting_approval(world)
    await _delegate(world, "head_east", "head_west", starts_in=timedelta(0),
                    lasts=timedelta(days=3))
    # The west head reaches this east change only as the deputy, and may approve it.
    seen = await read(world, "head_west", view)
    assert "approve" in seen.allowed_actions

    decided = await decide(world, "head_west", seen)

    assert decided.cr.state is CRState.APPROVED
    step = decided.cr.steps[0]
    assert (step.decided_by, step.on_behalf_of) == (world.id("head_west"),
                                                    world.id("head_east"))
    [event] = world.store.events("change_request.approved")
    assert event.data["on_behalf_of"] == str(world.id("head_east"))
    [audited] = world.store.audited("change_request.approved")
    assert audited.actor_id == str(world.id("head_west"))
    assert audited.after is not None
    assert audited.after["on_behalf_of"] == str(world.id("head_east"))


@pytest.mark.parametrize(("starts_in", "lasts", "then"), [
    (timedelta(0), timedelta(days=1), timedelta(days=1)),  # ends: at its end it is over
    (timedelta(0), timedelta(days=1), timedelta(days=2)),  # long expired
    (timedelta(hours=1), timedelta(days=1), timedelta(0)),  # not started yet
    (timedelta(hours=1), timedelta(days=1), timedelta(minutes=59)),
], ids=["at-its-end", "expired", "future", "just-before-start"])
async def test_a_delegation_not_in_force_lets_the_deputy_decide_nothing(
        world: World, starts_in: timedelta, lasts: timedelta, then: timedelta) -> None:
    view = await awaiting_approval(world)
    await _delegate(world, "head_east", "head_west", starts_in=starts_in, lasts=lasts)
    world.clock.advance(seconds=then.total_seconds())

    with pytest.raises(NotFound):  # outside their scope, the change does not exist to them
        await decide(world, "head_west", view)
    with pytest.raises(NotFound):
        await read(world, "head_west", view)
    await _still_pending(world, view)


async def test_a_revoked_delegation_no_longer_passes(world: World) -> None:
    view = await awaiting_approval(world)
    delegation = await _delegate(world, "head_east", "head_west", starts_in=timedelta(0),
                                 lasts=timedelta(days=3))
    await world.delegations.revoke(world.ctx("head_east"),
                                   delegation["id"])  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await decide(world, "head_west", view)
    await _still_pending(world, view)


async def test_a_deputy_may_not_decide_their_own_request(world: World) -> None:
    view = await awaiting_approval(world, requester="head_east2")
    await _delegate(world, "head_east", "head_east2", starts_in=timedelta(0),
                    lasts=timedelta(days=3))
    assert "approve" not in (await read(world, "head_east2", view)).allowed_actions
    with pytest.raises(SelfApprovalForbidden):
        await decide(world, "head_east2", view)
    await _still_pending(world, view)


async def test_a_deputy_may_not_approve_on_behalf_of_the_requester(world: World) -> None:
    view = await awaiting_approval(world, requester="head_east")
    await _delegate(world, "head_east", "head_west", starts_in=timedelta(0),
                    lasts=timedelta(days=3))
    with pytest.raises(NotFound):
        await decide(world, "head_west", view)
    await _still_pending(world, view)
    # Another head of the department decides in their own right.
    decided = await decide(world, "head_east2", view)
    assert decided.cr.state is CRState.APPROVED
    assert decided.cr.steps[0].on_behalf_of is None
