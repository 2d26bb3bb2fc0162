"""The feedback loop as data (domain §6):
``received → acknowledged → in_progress → resolved → confirmed``, and ``reopen`` from
``resolved`` or ``confirmed`` back to ``in_progress``. Reopening a confirmed item is
allowed on purpose: a problem that comes back is the same feedback, and a new item would
hide that the first resolution did not hold (``reopen_count`` shows it).

Who: the item's owner (the account manager who answers for it), a head of the customer's
department, or an administrator. Use cases ask ``check`` (or ``apply``) and the API shows
``allowed_actions``: no transition is decided anywhere else, as for change requests."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.access.roles import Role
from app.domain.common.errors import FieldErrors
from app.domain.common.workflow import (
    Transition,
    in_state,
    leaving,
    permitted,
    require_guards,
    require_party,
)
from app.domain.feedback.model import Confirmation, FeedbackItem, FeedbackState
from app.domain.training.competence import Competence, Duty, require

MAX_TEXT = 5000


class Party(StrEnum):
    """Who may take an action, relative to the item."""

    OWNER = "owner"
    DEPARTMENT_HEAD = "department_head"  # a head of the customer's department
    ADMIN = "admin"


# ``guards`` look at the item's state; what an action needs as input (a resolution text,
# who confirmed) is checked by ``apply`` as field errors, so the client hears which
# field to fill. No action needs a state guard today; the column stays so that a rule
# like "a complaint needs a root cause before resolve" has a place.
Action = Transition[FeedbackState, Party, FeedbackItem]

EVERYONE = frozenset({Party.OWNER, Party.DEPARTMENT_HEAD, Party.ADMIN})

ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("acknowledge", frozenset({FeedbackState.RECEIVED}), FeedbackState.ACKNOWLEDGED,
           EVERYONE),
    Action("start", frozenset({FeedbackState.ACKNOWLEDGED}), FeedbackState.IN_PROGRESS,
           EVERYONE),
    Action("resolve", frozenset({FeedbackState.IN_PROGRESS}), FeedbackState.RESOLVED,
           EVERYONE),
    Action("confirm", frozenset({FeedbackState.RESOLVED}), FeedbackState.CONFIRMED, EVERYONE),
    Action("reopen", frozenset({FeedbackState.RESOLVED, FeedbackState.CONFIRMED}),
           FeedbackState.IN_PROGRESS, EVERYONE),
)}


def is_party(party: Party, item: FeedbackItem, principal: Principal) -> bool:
    if party is Party.OWNER:
        return principal.id == item.owner_id
    if party is Party.DEPARTMENT_HEAD:
        return principal.heads(item.department_id)
    return Role.ADMIN in principal.roles


def check(item: FeedbackItem, name: str, principal: Principal,
          competence: Competence | None = None) -> FeedbackState:
    """The state ``name`` leads to, or why it may not be taken now: TransitionNotAllowed
    (not from this state, or no such action), NotYourAction, PreconditionUnmet; for
    ``resolve`` while a competence rule is in force (``competence`` given),
    TrainingRequired naming the course."""
    action = leaving(ACTIONS, name, item.state)
    require_party(action, lambda party: is_party(party, item, principal))
    require_guards(action, item)
    if name == "resolve":
        require(competence, Duty.RESOLVE_FEEDBACK)
    return action.target


def allowed_in_state(state: FeedbackState) -> list[str]:
    return in_state(ACTIONS, state)


def allowed_actions(item: FeedbackItem, principal: Principal) -> list[str]:
    """What this principal may do now, guards included: what the API shows."""
    return permitted(allowed_in_state(item.state), lambda name: check(item, name, principal))


def _text(errors: FieldErrors, pointer: str, value: str) -> str:
    text = value.strip()
    if not text:
        errors.add(pointer, "missing")
    elif len(text) > MAX_TEXT:
        errors.add(pointer, "string_too_long", max_length=MAX_TEXT)
    return text


# What each action announces (feedback.<event>), and which of its inputs the event carries.
EVENTS = {"acknowledge": "acknowledged", "start": "started", "resolve": "resolved",
          "confirm": "confirmed", "reopen": "reopened"}
EVENT_INPUTS: dict[str, tuple[str, ...]] = {"reopen": ("reason",)}


def apply(item: FeedbackItem, name: str, principal: Principal, now: datetime, *,
          resolution: str = "", reason: str = "", contact_id: UUID | None = None,
          agreed_at: datetime | None = None, note: str = "",
          live_contacts: frozenset[UUID] = frozenset(),
          competence: Competence | None = None) -> FeedbackItem:
    """The item after ``principal`` takes action ``name`` at ``now``, with its timestamps
    set. Inputs: ``resolve`` needs a ``resolution``; ``reopen`` a ``reason`` (kept in the
    event/audit, not on the item); ``confirm`` needs who agreed, a ``contact_id`` among the
    customer's ``live_contacts`` or a ``note`` naming them, and ``agreed_at`` (default
    ``now``) between the resolution and ``now`` since a call is often recorded after it
    happened."""
    target = check(item, name, principal, competence)
    errors = FieldErrors()
    changes: dict[str, Any] = {"state": target}
    if name == "acknowledge":
        changes["acknowledged_at"] = now
    elif name == "resolve":
        changes.update(resolution=_text(errors, "/resolution", resolution), resolved_at=now)
    elif name == "confirm":
        when = now if agreed_at is None else agreed_at
        if item.resolved_at is not None and not item.resolved_at <= when <= now:
            errors.add("/agreed_at", "out_of_range")
        if contact_id is None and not note.strip():
            errors.add("/contact_id", "missing")
        elif contact_id is not None and contact_id not in live_contacts:
            errors.add("/contact_id", "contact_unknown")
        if len(note) > MAX_TEXT:
            errors.add("/note", "string_too_long", max_length=MAX_TEXT)
        changes.update(confirmed_at=when, confirmation=Confirmation(
            recorded_by=principal.id, recorded_at=now, contact_id=contact_id, note=note.strip()))
    elif name == "reopen":
        _text(errors, "/reason", reason)
        changes.update(resolution="", resolved_at=None, confirmed_at=None, confirmation=None,
                       reopened_at=now, reopen_count=item.reopen_count + 1)
    errors.raise_if_any()
    return replace(item, **changes)
