"""Handover transfer (客户移交): the last required signature moves the customer and its open
work (change requests, tasks, risks, feedback, survey invitations, open plans) to the
receiving manager in one transaction, each move audited; until then, and if the transfer
fails, nothing moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pytest

from app.domain.access.scope import Reach, RecordScope
from app.domain.change_requests.model import CRState, TaskStatus
from app.domain.customers.model import Tier
from app.domain.feedback.model import FeedbackState
from app.domain.handovers.model import HandoverLevel, HandoverReason, HandoverState, Stakeholder
from app.domain.handovers.workflow import OwnerChanged
from app.domain.plans.model import PlanState
from app.domain.risk.register import RiskStatus
from app.services.handovers import NewHandover
from app.services.handovers import View as HandoverView
from tests.usecases.world import World

EVERYTHING = RecordScope(Reach.ALL)


@dataclass
class Book:
    """A customer of ``am_east``'s with open and finished work of every kind."""

    customer_id: UUID
    moves: dict[str, set[UUID]] = field(default_factory=dict)  # entity → ids that move
    stays: dict[str, set[UUID]] = field(default_factory=dict)  # entity → ids that stay


async def _book(world: World) -> Book:
    customer = world.customer("am_east", tier=Tier.C)  # its open work lifts it to standard
    crs = {state: world.change_request(customer, "am_east", state) for state in (
        CRState.DRAFT, CRState.IMPLEMENTING, CRState.CLOSED, CRState.CANCELLED,
        CRState.REJECTED)}
    implementing = crs[CRState.IMPLEMENTING]
    tasks = {status: world.task("am_east", status) for status in TaskStatus}
    pm_task = world.task("pm", TaskStatus.OPEN)  # not the manager's: stays with its assignee
    risks = {status: world.risk(customer, "am_east", status) for status in RiskStatus}
    feedback = {state: world.feedback(customer, "am_east", state) for state in FeedbackState}
    answered = world.invitation(customer, "am_east", responded_at=world.clock.now())
    waiting = world.invitation(customer, "am_east")
    plans = {state: world.plan(customer, "am_east", state) for state in PlanState}
    pm_plan = world.plan(customer, "pm", PlanState.ACTIVE)  # run by another: stays
    await world.seed(customer, *crs.values(), *risks.values(), *feedback.values(), answered,
                     waiting, *plans.values(), pm_plan,
                     tasks=tuple((implementing, t) for t in (*tasks.values(), pm_task)))
    open_cr = {CRState.DRAFT, CRState.IMPLEMENTING}
    open_feedback = {FeedbackState.RECEIVED, FeedbackState.ACKNOWLEDGED,
                     FeedbackState.IN_PROGRESS}
    return Book(customer.id, moves={
        "change_request": {crs[s].id for s in open_cr},
        "task": {tasks[TaskStatus.OPEN].id, tasks[TaskStatus.IN_PROGRESS].id},
        "risk": {risks[RiskStatus.OPEN].id, risks[RiskStatus.MITIGATING].id},
        "feedback": {feedback[s].item.id for s in open_feedback},
        "survey_invitation": {waiting.id},
        "plan": {plans[PlanState.DRAFT].id, plans[PlanState.ACTIVE].id},
    }, stays={
        "change_request": {crs[s].id for s in crs if s not in open_cr},
        "task": {tasks[TaskStatus.DONE].id, tasks[TaskStatus.WAIVED].id, pm_task.id},
        "risk": {risks[RiskStatus.CLOSED].id},
        "feedback": {feedback[s].item.id for s in FeedbackState if s not in open_feedback},
        "survey_invitation": {answered.id},
        "plan": {plans[PlanState.COMPLETED].id, plans[PlanState.CANCELLED].id, pm_plan.id},
    })


async def _ready_to_sign(world: World, book: Book) -> HandoverView:
    """A standard handover notified, prepared and verified by both managers."""
    service = world.handovers
    view = await service.start(world.ctx("am_east"), book.customer_id, NewHandover(
        to_manager_id=world.id("am_east2"), reason=HandoverReason.REASSIGNMENT))
    h = view.handover
    assert (h.level, h.level_reasons) == (HandoverLevel.STANDARD, ["tier_C", "open_items"])
    for stakeholder in (Stakeholder.HANDING_OVER_MANAGER, Stakeholder.RECEIVING_MANAGER,
                        Stakeholder.DEPARTMENT_HEAD):
        view = await service.record_notification(world.ctx("am_east"), h.id, stakeholder,
                                                 "email", None, "")
    for action in ("notify", "start_preparation"):
        view = await service.transition(world.ctx("am_east"), h.id, view.handover.version,
                                        action)
    for item in h.items:
        for who in ("am_east", "am_east2"):
            view = await service.verify(world.ctx(who), h.id, item.key)
    assert "sign" in view.allowed_actions  # the receiver, last to verify, may sign
    return view


async def _owners(world: World, book: Book) -> dict[str, dict[UUID, UUID]]:
    """Who answers for each of the book's records now, as committed."""
    t = world.store.tables
    return {
        "customer": {book.customer_id: t.customers[book.customer_id].owner_id},
        "change_request": {i: cr.owner_id for i, cr in t.change_requests.items()},
        "task": {i: task.assignee_id for i, (_, task) in t.tasks.items()},
        "risk": {i: r.owner_id for i, r in t.risks.items()},
        "feedback": {i: f.item.owner_id for i, f in t.feedback.items()},
        "survey_invitation": {i: inv.owner_id for i, inv in t.invitations.items()},
        "plan": {i: p.owner_id for i, p in t.plans.items()},
    }


async def test_the_last_signature_moves_the_customer_and_its_open_work_each_audited(
        world: World) -> None:
    book = await _book(world)
    view = await _ready_to_sign(world, book)
    h = view.handover
    view = await world.handovers.sign(world.ctx("am_east"), h.id, view.handover.version)
    view = await world.handovers.sign(world.ctx("am_east2"), h.id, view.handover.version)

    assert view.handover.state is HandoverState.TRANSFERRED
    owners = await _owners(world, book)
    old, new = world.id("am_east"), world.id("am_east2")
    assert owners["customer"] == {book.customer_id: new}
    for entity, ids in book.moves.items():
        assert {i: owners[entity][i] for i in ids} == dict.fromkeys(ids, new), entity
        assert {a.entity_id for a in world.store.audited(f"{entity}.reassigned")} == \
            {str(i) for i in ids}, entity
        events = world.store.events(f"{entity}.reassigned")
        assert {e.entity_id for e in events} == ids
        assert {e.customer_id for e in events} == {book.customer_id}
    for entity, ids in book.stays.items():
        assert new not in {owners[entity][i] for i in ids}, entity
    transfer: dict[str, Any] = view.handover.transfer or {}
    assert {UUID(m["id"]) for m in transfer["change_requests"]} == book.moves["change_request"]
    assert all(m["requester_moved"] for m in transfer["change_requests"])
    [handed] = world.store.audited("customer.handed_over")
    assert handed.before is not None and handed.before["owner_id"] == str(old)
    assert world.store.tables.change_requests[next(iter(book.moves["change_request"]))] \
        .requester_id == new


async def test_a_handover_not_fully_signed_moves_nothing(world: World) -> None:
    book = await _book(world)
    view = await _ready_to_sign(world, book)
    before = await _owners(world, book)

    view = await world.handovers.sign(world.ctx("am_east"), view.handover.id,
                                      view.handover.version)

    assert view.handover.state is HandoverState.PREPARING
    assert view.handover.transfer is None
    assert await _owners(world, book) == before
    assert not [a for a in world.store.audit if a.action.endswith(".reassigned")]
    assert world.store.audited("customer.handed_over") == []


async def test_a_failed_transfer_rolls_back_the_signature_and_every_move(world: World) -> None:
    book = await _book(world)
    view = await _ready_to_sign(world, book)
    view = await world.handovers.sign(world.ctx("am_east"), view.handover.id,
                                      view.handover.version)
    async with world.uow(world.ctx("admin")) as uow:  # the owner changes meanwhile
        customer = await uow.customers.get(book.customer_id, EVERYTHING)
        assert customer is not None
        customer.owner_id = world.id("head_east")
        await uow.customers.save(customer)
        await uow.commit()
    before, audited = await _owners(world, book), len(world.store.audit)

    with pytest.raises(OwnerChanged):
        await world.handovers.sign(world.ctx("am_east2"), view.handover.id,
                                   view.handover.version)

    assert await _owners(world, book) == before
    assert len(world.store.audit) == audited
    again = await world.handovers.get(world.ctx("am_east2"), view.handover.id)
    assert [s.signer_id for s in again.handover.signatures] == [world.id("am_east")]
    assert again.handover.state is HandoverState.PREPARING
