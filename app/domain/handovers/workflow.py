"""The handover process as data (domain §4), like the change-request workflow: each action
names the states it leaves from, who may take it and what must hold first. ``check`` is the
only place an action is decided (``effects.apply`` asks it); ``allowed_actions`` shows the
caller the same table.

The last required signature transfers the customer in the same transaction, so a handover
passes through ``signed`` to ``transferred`` at once; ``signed_at`` keeps the moment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.access.roles import Role
from app.domain.common.errors import (
    DomainError,
    ErrorKind,
    NotYourAction,
)
from app.domain.common.workflow import (
    in_state,
    leaving,
    permitted,
    require_guards,
    require_party,
)
from app.domain.handovers.model import Handover, HandoverState, SignatureRole
from app.domain.training.competence import Competence, Duty, require

S = HandoverState


class Party(StrEnum):
    HANDING_OVER = "handing_over_manager"  # or a department head once that manager has left
    RECEIVING = "receiving_manager"
    DEPARTMENT_HEAD = "department_head"  # a head of the customer's department
    SIGNATORY = "signatory"  # whoever still has a signature to give
    ADMIN = "admin"


class AlreadySigned(DomainError):
    """Nobody gives the same signature twice, nor verifies the same item twice for one
    side; ``state`` says which, and the wording what to do instead."""

    code = "already_signed"
    kind = ErrorKind.CONFLICT


class HandoverAlreadyOpen(DomainError):
    """A customer is in at most one open handover at a time."""

    code = "handover_already_open"
    kind = ErrorKind.CONFLICT


class OwnerChanged(DomainError):
    """The customer changed owner since the handover began: nothing is transferred."""

    code = "customer_owner_changed"
    kind = ErrorKind.CONFLICT


@dataclass(frozen=True)
class Facts:
    handover: Handover
    from_manager_active: bool


Guard = Callable[[Facts], str | None]


def _notifications_recorded(f: Facts) -> str | None:
    missing = f.handover.requirements.notify - f.handover.notified()
    return f"stakeholders_not_notified: {', '.join(sorted(missing))}" if missing else None


def _notified_if_required(f: Facts) -> str | None:
    h = f.handover
    return "notification_required" if h.state is S.DRAFT and h.requirements.notify else None


def _meeting_if_required(f: Facts) -> str | None:
    h = f.handover
    return "meeting_required" if h.requirements.meeting and h.meeting_held_at is None else None


def _no_open_findings(f: Facts) -> str | None:
    return "open_findings" if f.handover.open_findings() else None


def _materials_verified(f: Facts) -> str | None:
    return "materials_not_verified" if f.handover.unverified_items() else None


@dataclass(frozen=True)
class Action:
    name: str
    sources: frozenset[HandoverState]
    parties: frozenset[Party]
    guards: tuple[Guard, ...] = ()
    target: HandoverState | None = None  # None: the state does not change


PREPARING = frozenset({S.PREPARING, S.MEETING_HELD})
MANAGERS = frozenset({Party.HANDING_OVER, Party.RECEIVING})
LEADS = frozenset({Party.HANDING_OVER, Party.DEPARTMENT_HEAD, Party.ADMIN})

ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("record_notification", frozenset({S.DRAFT, S.NOTIFIED}), LEADS),
    Action("notify", frozenset({S.DRAFT}), LEADS, (_notifications_recorded,), S.NOTIFIED),
    Action("start_preparation", frozenset({S.DRAFT, S.NOTIFIED}), LEADS,
           (_notified_if_required,), S.PREPARING),
    Action("verify", PREPARING, MANAGERS),
    Action("raise_finding", PREPARING, MANAGERS | {Party.DEPARTMENT_HEAD}),
    Action("resolve_finding", PREPARING, MANAGERS | {Party.DEPARTMENT_HEAD}),
    Action("hold_meeting", frozenset({S.PREPARING}), MANAGERS | {Party.DEPARTMENT_HEAD},
           target=S.MEETING_HELD),
    Action("sign", PREPARING, frozenset({Party.SIGNATORY}),
           (_meeting_if_required, _no_open_findings, _materials_verified)),
    Action("follow_up", frozenset({S.TRANSFERRED}), frozenset({Party.RECEIVING}),
           target=S.FOLLOWED_UP),
    Action("cancel", frozenset({S.DRAFT, S.NOTIFIED, S.PREPARING, S.MEETING_HELD}), LEADS,
           target=S.CANCELLED),
)}


def _head_of(h: Handover, principal: Principal) -> bool:
    return (principal.heads(h.department_id)
            and principal.id not in (h.from_manager_id, h.to_manager_id))


def _is_party(party: Party, f: Facts, principal: Principal) -> bool:
    h = f.handover
    if party is Party.HANDING_OVER:
        return principal.id == h.from_manager_id or (
            not f.from_manager_active and _head_of(h, principal))
    if party is Party.RECEIVING:
        return principal.id == h.to_manager_id
    if party is Party.DEPARTMENT_HEAD:
        return _head_of(h, principal)
    if party is Party.ADMIN:
        return Role.ADMIN in principal.roles
    try:
        signature_role(f, principal)
    except DomainError:
        return False
    return True


def _capacities(f: Facts, principal: Principal) -> list[tuple[SignatureRole, UUID | None]]:
    """The signatures this principal may give, in the order they give them: a head signs as
    the head and, once the handing-over manager has left (resignation, spec §4), for that
    manager too, so a department with one head is never left without a signatory."""
    h = f.handover
    if principal.id == h.to_manager_id:
        return [(SignatureRole.RECEIVING, None)]
    if principal.id == h.from_manager_id:
        return [(SignatureRole.HANDING_OVER, None)]
    if not _head_of(h, principal):
        return []
    return [(SignatureRole.DEPARTMENT_HEAD, None)] + (
        [] if f.from_manager_active else [(SignatureRole.HANDING_OVER, h.from_manager_id)])


def signature_role(f: Facts, principal: Principal) -> tuple[SignatureRole, UUID | None]:
    """Which signature this principal gives, and for whom when a head signs for a departed
    handing-over manager. Each capacity signs once (a repeat is told who still has to
    sign), and nobody signs for a role they lack."""
    h = f.handover
    missing = h.missing_signatures()
    for capacity, on_behalf_of in _capacities(f, principal):
        if capacity in missing:
            return capacity, on_behalf_of
    given = [s.role.value for s in h.signatures if s.signer_id == principal.id]
    if given:
        raise AlreadySigned(state="signature_given", signed_as=", ".join(given),
                            waiting_for=", ".join(r.value for r in missing) or "none")
    raise NotYourAction(action="sign", parties=", ".join(r.value for r in missing) or "none")


@dataclass(frozen=True)
class Decision:
    """What ``check`` decided, once: the state the action leads to and, for ``sign``, the
    capacity the principal signs in and the departed manager they sign for."""

    target: HandoverState
    capacity: SignatureRole | None = None
    on_behalf_of: UUID | None = None


def check(f: Facts, name: str, principal: Principal,
          competence: Competence | None = None) -> Decision:
    """What taking ``name`` now decides, or the reason it may not be taken. A department
    head's signature also needs the course a competence rule in force names
    (``competence`` given only then)."""
    state = f.handover.state
    action = leaving(ACTIONS, name, state)
    capacity = on_behalf_of = None
    if action.parties == {Party.SIGNATORY}:
        capacity, on_behalf_of = signature_role(f, principal)
        if capacity is SignatureRole.DEPARTMENT_HEAD:
            require(competence, Duty.SIGN_HANDOVER, Role.DEPARTMENT_HEAD)
    else:
        require_party(action, lambda party: _is_party(party, f, principal))
    require_guards(action, f)
    return Decision(action.target or state, capacity, on_behalf_of)


def allowed_in_state(state: HandoverState) -> list[str]:
    return in_state(ACTIONS, state)


def allowed_actions(f: Facts, principal: Principal) -> list[str]:
    return permitted(allowed_in_state(f.handover.state), lambda name: check(f, name, principal))
