"""Competence rules on deciding a change request's approval step and on resolving
feedback, through the services on the in-memory unit of work: while a rule is on, an
approver without the course is refused naming it (audited, nothing else written), a
trained one decides, a completion counts through its last valid day and not the day
after, and a deputy needs the course themselves; while off, or for another role's
steps, nothing changes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.domain.access.roles import Role
from app.domain.change_requests.model import CRState, StepStatus
from app.domain.feedback.model import FeedbackState
from app.domain.training.competence import CompetenceRules, Duty, Rule, TrainingRequired
from app.domain.training.model import Course
from app.services.feedback import ActionInput as FeedbackInput
from app.services.feedback import FeedbackService
from app.services.training import (
    AttendeeInput,
    CompetenceRulesService,
    CourseInput,
    TrainingService,
)
from tests.usecases.flows import awaiting_approval, decide, read
from tests.usecases.world import START, World

TODAY = date(2025, 3, 3)  # START in Shanghai


async def _course(world: World) -> Course:
    return await TrainingService(world.uow, world.clock).create_course(
        world.ctx("admin"), CourseInput("变更管理流程", "change_management", 12))


async def _trained(world: World, course: Course, *names: str,
                   on: date = TODAY - timedelta(days=30)) -> None:
    await TrainingService(world.uow, world.clock).record_session(
        world.ctx("admin"), course.id, on, world.id("tech"),
        [AttendeeInput(world.id(n), True) for n in names])


async def _rules(world: World, course: Course, *, enabled: bool = True,
                 role: Role | None = Role.DEPARTMENT_HEAD) -> None:
    service = CompetenceRulesService(world.uow, world.clock)
    _, version = await service.get(world.ctx("admin"))
    await service.set(world.ctx("admin"), CompetenceRules(
        enabled, (Rule(Duty.APPROVE_CHANGE, course.id, role),)), version)


async def _refused(world: World, who: str, reason: str, course: Course) -> None:
    view = await awaiting_approval(world)
    with pytest.raises(TrainingRequired) as refused:
        await decide(world, who, view)
    assert refused.value.extensions["course_id"] == str(course.id)
    assert refused.value.extensions["course_title"] == "变更管理流程"
    assert refused.value.extensions["reason"] == reason
    again = await read(world, "head_east", view)
    assert [s.status for s in again.cr.steps] == [StepStatus.PENDING]
    assert again.cr.version == view.cr.version
    audited = world.store.audited("training.competence_refused")[-1]
    assert (audited.actor_id, audited.entity_id) == (str(world.id(who)), str(view.cr.id))
    assert audited.after is not None and audited.after["course_id"] == str(course.id)


async def test_an_untrained_approver_is_refused_naming_the_course(world: World) -> None:
    course = await _course(world)
    await _rules(world, course)
    await _refused(world, "head_east", "missing", course)
    [changed] = world.store.audited("policy.updated")
    assert changed.after is not None and changed.after["enabled"] is True


async def test_a_trained_approver_decides(world: World) -> None:
    course = await _course(world)
    await _trained(world, course, "head_east")
    await _rules(world, course)
    decided = await decide(world, "head_east", await awaiting_approval(world))
    assert decided.cr.state is CRState.APPROVED
    assert world.store.audited("training.competence_refused") == []


async def test_a_completion_counts_through_its_last_day_and_not_the_day_after(
        world: World) -> None:
    course = await _course(world)
    # 12 calendar months from 3 March 2024: valid through 3 March 2025 (today).
    await _trained(world, course, "head_east", on=date(2024, 3, 3))
    await _rules(world, course)
    world.clock.at = START + timedelta(days=1)
    await _refused(world, "head_east", "lapsed", course)
    assert world.store.audited("training.competence_refused")[-1].after["valid_through"] \
        == "2025-03-03"  # type: ignore[index]
    world.clock.at = START
    decided = await decide(world, "head_east", await awaiting_approval(world))
    assert decided.cr.state is CRState.APPROVED


async def test_a_deputy_needs_the_course_themselves(world: World) -> None:
    course = await _course(world)
    await _trained(world, course, "head_east")
    await _rules(world, course)
    await world.delegations.create(world.ctx("head_east"), world.id("head_east"),
                                   world.id("head_west"), Role.DEPARTMENT_HEAD, START,
                                   START + timedelta(days=3))
    await _refused(world, "head_west", "missing", course)
    await _trained(world, course, "head_west")
    decided = await decide(world, "head_west", await awaiting_approval(world))
    assert decided.cr.steps[0].on_behalf_of == world.id("head_east")


@pytest.mark.parametrize(("enabled", "role"), [(False, Role.DEPARTMENT_HEAD),
                                               (True, Role.FINANCE)])
async def test_a_rule_off_or_for_another_role_changes_nothing(
        world: World, enabled: bool, role: Role) -> None:
    course = await _course(world)
    await _rules(world, course, enabled=enabled, role=role)
    decided = await decide(world, "head_east", await awaiting_approval(world))
    assert decided.cr.state is CRState.APPROVED
    assert world.store.audited("training.competence_refused") == []


async def test_resolving_feedback_needs_the_course_while_its_rule_is_on(world: World) -> None:
    course = await _course(world)
    service = CompetenceRulesService(world.uow, world.clock)
    await service.set(world.ctx("admin"), CompetenceRules(
        True, (Rule(Duty.RESOLVE_FEEDBACK, course.id),)), 0)
    customer = world.customer("am_east")
    record = world.feedback(customer, "am_east", FeedbackState.IN_PROGRESS)
    await world.seed(customer, record)
    feedback = FeedbackService(world.uow, world.clock)
    with pytest.raises(TrainingRequired):
        await feedback.act(world.ctx("am_east"), record.item.id, 1, "resolve",
                           FeedbackInput(resolution="已更正发票"))
    [refusal] = world.store.audited("training.competence_refused")
    assert (refusal.entity_type, refusal.entity_id) == ("feedback", str(record.item.id))
    await _trained(world, course, "am_east")
    done = await feedback.act(world.ctx("am_east"), record.item.id, 1, "resolve",
                              FeedbackInput(resolution="已更正发票"))
    assert done.record.item.state is FeedbackState.RESOLVED
