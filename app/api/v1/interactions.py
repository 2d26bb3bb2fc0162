"""``/customers/{id}/interactions``: 沟通及时 — calls, visits, meetings, e-mails and chats
with a customer (on its timeline), its next contact due (回访), the contact cadence per tier
(``/settings/contact-cadence``) and the scheduler hook that announces overdue contacts."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

from app.api.container import services
from app.api.idempotency import Idempotent
from app.api.pagination import ListPage, list_page, page_params
from app.api.policy_settings import policy_setting
from app.api.problems import error_responses
from app.api.security import allow
from app.api.v1.routing import feature_router
from app.api.v1.schemas.base import JobOut
from app.api.v1.schemas.interactions import (
    CadenceOut,
    CadencePolicyIn,
    CadencePolicyOut,
    InteractionIn,
    InteractionOut,
)
from app.domain.access.roles import Role, Scope
from app.domain.common.paging import PageRequest
from app.domain.customers.model import Tier
from app.domain.interactions.model import CadencePolicy
from app.services.interactions import NewInteraction
from app.services.ports import RequestContext

router = feature_router("interactions")

Reader = Annotated[RequestContext, Depends(allow(*Role))]
Recorder = Annotated[RequestContext, Depends(allow(Role.ADMIN, Role.DEPARTMENT_HEAD,
                                                   Role.ACCOUNT_MANAGER))]
Admin = Annotated[RequestContext, Depends(allow(Role.ADMIN))]
Scheduler = Annotated[RequestContext, Depends(allow(Role.ADMIN, scopes=(Scope.JOBS_RUN,)))]
BASE = "/customers/{customer_id}"


@router.post(BASE + "/interactions", response_model=InteractionOut, status_code=201,
             summary="Record an interaction with a customer", dependencies=[Idempotent],
             responses=error_responses(404, 409))
async def record(request: Request, customer_id: UUID, body: InteractionIn,
                 ctx: Recorder) -> InteractionOut:
    """A customer you may write; it restarts the contact clock and shows on the timeline."""
    found = await services(request).interactions.record(ctx, customer_id, NewInteraction(
        kind=body.kind, occurred_at=body.occurred_at, summary=body.summary,
        participants=tuple(body.participants), contact_ids=tuple(body.contact_ids),
        next_step=body.next_step))
    return InteractionOut.model_validate(found.__dict__)


@router.get(BASE + "/interactions", response_model=ListPage[InteractionOut],
            summary="A customer's interactions", responses=error_responses(404))
async def list_interactions(
    request: Request, customer_id: UUID, ctx: Reader,
    page: Annotated[PageRequest, Depends(page_params(["occurred_at"], "-occurred_at"))],
) -> dict[str, object]:
    result = await services(request).interactions.list(ctx, customer_id, page)
    return list_page(request, result, page, lambda i: InteractionOut.model_validate(i.__dict__))


@router.get(BASE + "/contact-cadence", response_model=CadenceOut,
            summary="When the next contact with a customer is due",
            responses=error_responses(404))
async def cadence(request: Request, customer_id: UUID, ctx: Reader) -> CadenceOut:
    found = await services(request).interactions.cadence(ctx, customer_id)
    return CadenceOut.model_validate(found.__dict__)


@router.post("/customers/contact-escalations", response_model=JobOut,
             summary="Announce every overdue customer contact")
async def announce_overdue(request: Request, ctx: Scheduler) -> JobOut:
    """For a scheduler (scope `jobs:run`) or `accord escalate`: each lapsed due date is
    announced once (`customer.contact_overdue`)."""
    return JobOut(count=await services(request).interactions.announce_overdue(ctx))


policy_setting(
    router, "/settings/contact-cadence", "cadence_policy", reader=Reader, writer=Admin,
    body=CadencePolicyIn, out=CadencePolicyOut,
    to_domain=lambda body: CadencePolicy({Tier(t): d for t, d in body.working_days.items()}),
    use_cases=lambda s: (s.contact_cadence.get, s.contact_cadence.set),
    summaries=("The contact cadence: working days between contacts per tier",
               "Set the contact cadence"))
