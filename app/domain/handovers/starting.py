"""Who may start a handover and to whom (domain §4): the customer's owner, a head of its
department or an administrator hands it to another active account manager of the same
department."""

from __future__ import annotations

from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.access.roles import Role
from app.domain.access.users import User
from app.domain.common.errors import FieldError, InvalidInput, NotYourAction


def may_start(principal: Principal, owner_id: UUID, department_id: UUID) -> None:
    """Refuses anyone but the owner, a head of the department or an administrator."""
    if Role.ADMIN in principal.roles or principal.id == owner_id:
        return
    if principal.heads(department_id):
        return
    raise NotYourAction(action="start_handover",
                        parties="the owner, department_head, admin")


def check_receiver(user: User | None, department_id: UUID, owner_id: UUID) -> None:
    """The receiving manager: an active account manager of the same department, and not
    the one handing over."""
    reason = None
    if user is None or not user.active:
        reason = "receiving_manager_unknown"
    elif Role.ACCOUNT_MANAGER not in user.roles:
        reason = "receiving_manager_not_account_manager"
    elif user.department_id != department_id:
        reason = "receiving_manager_other_department"
    elif user.id == owner_id:
        reason = "receiving_manager_is_owner"
    if reason:
        raise InvalidInput([FieldError("/to_manager_id", reason)])
