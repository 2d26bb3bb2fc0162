"""Change requests driven through the service's public methods (the ones routes call), so
a scenario starts where it needs to: a customer, a draft, the panel, the conclusion."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.domain.change_requests.model import Assessment, CRCategory, CRState, Recommendation
from app.services.change_requests import Conclusion, DraftInput, View
from tests.usecases.world import World


async def awaiting_approval(world: World, *, requester: str = "am_east",
                            cost: str = "10000", likelihood: int = 1, impact: int = 1,
                            category: CRCategory = CRCategory.SCOPE) -> View:
    """A normal change on a customer of ``am_east``'s, requested by ``requester``,
    assessed by the panel and concluded with these estimates."""
    customer = world.customer("am_east")
    await world.seed(customer)
    service = world.change_requests
    view = await service.create(world.ctx(requester), customer.id, DraftInput(
        title="二期上线时间调整", description="增加监管报表", reason="监管要求",
        expected_effect="按期报送", category=category,
        requested_completion_date=date(2025, 6, 30)))
    view = await act(world, requester, view, "submit")
    view = await act(world, "pm", view, "start_assessment")
    for who in ("pm", "tech"):
        view = await service.add_assessment(world.ctx(who), view.cr.id, Assessment(
            necessity=4, feasibility=4, scope_impact="报表", schedule_days=20,
            cost=Decimal(cost), resources="两人", likelihood=likelihood, impact=impact,
            recommendation=Recommendation.PROCEED, comment="可行"))
    view = await service.transition(
        world.ctx("pm"), view.cr.id, view.cr.version, "conclude_assessment",
        conclusion=Conclusion(cost=Decimal(cost), currency="CNY", schedule_days=20,
                              likelihood=likelihood, impact=impact,
                              recommendation=Recommendation.PROCEED, summary="评估通过"))
    assert view.cr.state is CRState.AWAITING_APPROVAL
    return view


async def act(world: World, who: str, view: View, action: str, comment: str = "") -> View:
    """One workflow action by ``who`` on the version ``view`` shows."""
    return await world.change_requests.transition(world.ctx(who), view.cr.id,
                                                  view.cr.version, action, comment)


async def decide(world: World, who: str, view: View, action: str = "approve",
                 position: int | None = None) -> View:
    """``who`` decides the step at ``position`` (default: the current one)."""
    step = view.cr.facts().current_step() if position is None else \
        next(s for s in view.cr.steps if s.position == position)
    assert step is not None
    return await world.change_requests.transition(world.ctx(who), view.cr.id,
                                                  view.cr.version, action, "意见", step_id=step.id)


async def read(world: World, who: str, view: View) -> View:
    return await world.change_requests.get(world.ctx(who), view.cr.id)
