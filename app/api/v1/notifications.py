"""``/me/notifications`` and ``/me/notification-preferences``: the signed-in user's own
(issue 15 §4, §6); nobody reads or marks another's."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Request, Response

from app.api.container import services
from app.api.etag import if_match, set_etag
from app.api.i18n import pick_language
from app.api.pagination import ListPage, list_page, page_params
from app.api.problems import error_responses
from app.api.security import signed_in
from app.api.v1.routing import feature_router
from app.api.v1.schemas.notifications import (
    MyNotificationOut,
    NotificationPreferencesOut,
    NotificationPreferencesUpdate,
    NotificationsMarkedOut,
)
from app.domain.common.paging import PageRequest
from app.domain.common.versions import AnyOf
from app.services.ports import RequestContext
from app.services.ports.notifications import Notification, Preferences

router = feature_router("notifications")
Me = Annotated[RequestContext, Depends(signed_in())]


def _out(n: Notification) -> MyNotificationOut:
    return MyNotificationOut.model_validate(n.__dict__)


def _preferences(response: Response, p: Preferences) -> NotificationPreferencesOut:
    set_etag(response, p.version)
    return NotificationPreferencesOut(email=p.email, language=p.language,  # type: ignore[arg-type]
                                      version=p.version)


def _language(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"))


@router.get("/me/notifications", response_model=ListPage[MyNotificationOut],
            summary="My notifications, newest first")
async def list_notifications(
    request: Request, ctx: Me,
    page: Annotated[PageRequest, Depends(page_params(["created_at"], "-created_at"))],
    unread: Annotated[bool, Query(description="Only those not yet read")] = False,
) -> dict[str, object]:
    result = await services(request).notifications.list(ctx, unread, page)
    return list_page(request, result, page, _out)


@router.post("/me/notifications/read-all", response_model=NotificationsMarkedOut,
             summary="Mark all my notifications read")
async def mark_all_read(request: Request, ctx: Me) -> NotificationsMarkedOut:
    return NotificationsMarkedOut(marked=await services(request).notifications.mark_all_read(ctx))


@router.post("/me/notifications/{notification_id}/read", response_model=MyNotificationOut,
             summary="Mark one of my notifications read (again: no change)",
             responses=error_responses(404))
async def mark_read(request: Request, notification_id: UUID, ctx: Me) -> MyNotificationOut:
    return _out(await services(request).notifications.mark_read(ctx, notification_id))


@router.get("/me/notification-preferences", response_model=NotificationPreferencesOut,
            summary="My notification preferences (e-mail, language)")
async def get_preferences(request: Request, response: Response,
                          ctx: Me) -> NotificationPreferencesOut:
    return _preferences(response, await services(request).notifications.preferences(
        ctx, _language(request)))


@router.patch("/me/notification-preferences", response_model=NotificationPreferencesOut,
              summary="Opt in to (or out of) notification e-mails; their language",
              responses=error_responses(409, 412, 428))
async def update_preferences(request: Request, response: Response,
                             body: NotificationPreferencesUpdate, ctx: Me,
                             version: Annotated[int | AnyOf, Depends(if_match)],
                             ) -> NotificationPreferencesOut:
    changes: dict[str, Any] = {name: getattr(body, name) for name in body.model_fields_set
                               if getattr(body, name) is not None}
    return _preferences(response, await services(request).notifications.set_preferences(
        ctx, version, changes, _language(request)))
