"""The handover workflow (domain §4) as a table independent of the code: every action in
every state, by every party, through the use cases on the in-memory unit of work. The
HTTP test (tests/api/test_handover_workflow.py) checks how one state's answers look."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from app.domain.common.errors import NotYourAction, PreconditionUnmet, TransitionNotAllowed
from app.domain.customers.model import Tier
from app.domain.handovers.effects import FollowUpInput, MeetingInput
from app.domain.handovers.model import HandoverLevel, HandoverReason, HandoverState, Stakeholder
from app.services.handovers import NewHandover, View
from tests.handover_table import STATES, TABLE, UNMET, expected_actions, possible
from tests.usecases.world import World

PARTIES = {"giver": "am_east", "taker": "am_east2", "head": "head_east", "admin": "admin"}


def _meeting(world: World) -> MeetingInput:
    return MeetingInput(world.clock.now().date(), ["交接人", "接收人"], "逐项核对客户资料")


async def drive(world: World, to: str) -> View:
    """A fresh standard handover of a new customer of am_east's to am_east2, taken to
    ``to`` by the handing-over manager (and the receiver, where both must act)."""
    service, giver, taker = world.handovers, world.ctx("am_east"), world.ctx("am_east2")
    customer = world.customer("am_east", tier=Tier.B)
    await world.seed(customer)
    view = await service.start(giver, customer.id, NewHandover(
        to_manager_id=world.id("am_east2"), reason=HandoverReason.REASSIGNMENT))
    h = view.handover
    assert h.level is HandoverLevel.STANDARD
    if to == "cancelled":
        return await service.transition(giver, h.id, h.version, "cancel", reason="客户合并")
    if to == "draft":
        return view
    for stakeholder in (Stakeholder.HANDING_OVER_MANAGER, Stakeholder.RECEIVING_MANAGER,
                        Stakeholder.DEPARTMENT_HEAD):
        view = await service.record_notification(giver, h.id, stakeholder, "email", None, "")
    view = await service.transition(giver, h.id, view.handover.version, "notify")
    if to == "notified":
        return view
    view = await service.transition(giver, h.id, view.handover.version, "start_preparation")
    if to == "preparing":
        return view
    view = await service.transition(giver, h.id, view.handover.version, "hold_meeting",
                                    meeting=_meeting(world))
    if to == "meeting_held":
        return view
    for item in h.items:
        for who in (giver, taker):
            view = await service.verify(who, h.id, item.key)
    for who in (giver, taker):
        view = await service.sign(who, h.id, view.handover.version)
    assert view.handover.state is HandoverState.TRANSFERRED
    if to == "transferred":
        return view
    view = await service.transition(taker, h.id, view.handover.version, "follow_up",
                                    follow_up=FollowUpInput(
                                        world.clock.now().date() + timedelta(days=1), "phone",
                                        "客户认可新经理"))
    assert view.handover.state.value == to == "followed_up"
    return view


async def attempt(world: World, who: str, view: View, action: str) -> Any:
    service, ctx, h = world.handovers, world.ctx(who), view.handover
    if action == "record_notification":
        return await service.record_notification(ctx, h.id, Stakeholder.RECEIVING_MANAGER,
                                                 "email", None, "")
    if action == "verify":
        return await service.verify(ctx, h.id, "contacts")
    if action == "raise_finding":
        return await service.raise_finding(ctx, h.id, "contacts", "电话号码已停用")
    if action == "resolve_finding":
        return await service.resolve_finding(ctx, h.id, uuid.uuid4(), "已核实")
    if action == "sign":
        return await service.sign(ctx, h.id, h.version)
    follow_up = FollowUpInput(world.clock.now().date(), "phone", "客户认可新经理")
    return await service.transition(ctx, h.id, h.version, action, meeting=_meeting(world),
                                    follow_up=follow_up, reason="客户合并")


@pytest.mark.parametrize("state", STATES)
async def test_each_state_offers_its_actions_to_their_parties_and_refuses_the_rest(
        world: World, state: str) -> None:
    view = await drive(world, state)
    assert view.handover.state.value == state
    for party, name in PARTIES.items():
        seen = await world.handovers.get(world.ctx(name), view.handover.id)
        assert seen.allowed_actions == expected_actions(party, state), party
    before = await world.handovers.get(world.ctx("admin"), view.handover.id)

    for action, (sources, entitled) in TABLE.items():
        if state not in sources:
            with pytest.raises(TransitionNotAllowed) as refused:
                await attempt(world, "am_east", before, action)
            assert refused.value.params == {"action": action, "state": state,
                                            "allowed": ", ".join(possible(state)) or "none"}
            continue
        for party, name in PARTIES.items():
            if party not in entitled:
                with pytest.raises(NotYourAction):
                    await attempt(world, name, before, action)
        if (action, state) in UNMET:
            with pytest.raises(PreconditionUnmet) as unmet:
                await attempt(world, PARTIES[sorted(entitled)[0]], before, action)
            assert UNMET[action, state] in unmet.value.params["reason"]
    after = await world.handovers.get(world.ctx("admin"), view.handover.id)
    assert after == before
