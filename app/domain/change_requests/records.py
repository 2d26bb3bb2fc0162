"""What may be recorded on a change request besides its workflow actions — the form, the
panel's assessments, the customer's input, implementation tasks, progress and the review:
in which states, and by whom. Use cases ask here before they write."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from app.domain.access.principal import Principal
from app.domain.access.roles import Role
from app.domain.change_requests.model import (
    ChangeRequest,
    ChangeRequestFacts,
    CRState,
    Task,
    TaskStatus,
)
from app.domain.common.errors import FieldError, InvalidInput, InvalidState, NotYourAction

EDITABLE = frozenset({CRState.DRAFT, CRState.RETURNED})
PLANNING_TASKS = frozenset({CRState.APPROVED, CRState.IMPLEMENTING})
REPORTING = frozenset({CRState.APPROVED, CRState.IMPLEMENTING, CRState.IMPLEMENTED})
PANEL = frozenset({Role.PROJECT_MANAGER, Role.TECH_EXPERT})


def _while(cr: ChangeRequest | ChangeRequestFacts, states: frozenset[CRState],
           reason: str) -> None:
    if cr.state not in states:
        raise InvalidState(state=reason)


def check_editable(cr: ChangeRequest, principal: Principal) -> None:
    """The form changes only while a draft or returned, and only by its requester."""
    _while(cr, EDITABLE, "not_editable")
    if principal.id != cr.requester_id:
        raise NotYourAction(action="edit", parties="requester")


def assessor_role(cr: ChangeRequest, principal: Principal) -> Role:
    """The role a panel member assesses in (project manager before tech expert); one
    assessment per member per round."""
    _while(cr, frozenset({CRState.ASSESSING}), "not_assessing")
    roles = principal.roles & PANEL
    if not roles:
        raise NotYourAction(action="assess", parties="project_manager, tech_expert")
    if any(a.assessor_id == principal.id for a in cr.current_round_assessments()):
        raise InvalidState(state="already_assessed")
    return Role.PROJECT_MANAGER if Role.PROJECT_MANAGER in roles else Role.TECH_EXPERT


def check_customer_input(cr: ChangeRequest) -> None:
    _while(cr, frozenset({CRState.ASSESSING}), "not_assessing")


def check_implementer(cr: ChangeRequest | ChangeRequestFacts, principal: Principal) -> None:
    """The requester or any project manager implements an approved change."""
    if principal.id != cr.requester_id and Role.PROJECT_MANAGER not in principal.roles:
        raise NotYourAction(action="implement", parties="requester, project_manager")


def check_task_planning(cr: ChangeRequest, principal: Principal) -> None:
    check_implementer(cr, principal)
    _while(cr, PLANNING_TASKS, "not_implementing")


def check_task_mover(cr: ChangeRequest, task: Task, principal: Principal) -> None:
    """Its assignee moves a task, as may whoever implements the change."""
    if principal.id != task.assignee_id:
        check_implementer(cr, principal)


def moved(cr: ChangeRequest, task: Task, status: TaskStatus, waive_reason: str | None,
          now: datetime) -> Task:
    """The task in its new status. Tasks move while the change is implemented; waiving
    one needs a reason, which only a waived task keeps."""
    _while(cr, frozenset({CRState.IMPLEMENTING}), "not_implementing")
    waived = status is TaskStatus.WAIVED
    if waived and not (waive_reason or "").strip():
        raise InvalidInput([FieldError("/waive_reason", "missing")])
    return replace(task, status=status, updated_at=now, version=task.version + 1,
                   waive_reason=waive_reason if waived else None)


def check_report(cr: ChangeRequest, principal: Principal) -> None:
    """Progress and customer communication, from approval until implemented."""
    check_implementer(cr, principal)
    _while(cr, REPORTING, "not_implementing")


def check_review(cr: ChangeRequest | ChangeRequestFacts, principal: Principal) -> None:
    """The implementer records (or corrects) the review once implemented, before closing;
    the workflow's ``allowed_actions`` offers it as ``review``."""
    check_implementer(cr, principal)
    _while(cr, frozenset({CRState.IMPLEMENTED}), "not_implemented")
