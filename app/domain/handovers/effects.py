"""What each handover action does (domain §4). ``apply`` asks the workflow table once
(``workflow.check``) and hands its decision to the action's effect, which returns the
handover as it stands after the action and the event it announces; the handover given is
never changed. Nothing here reads or writes storage: the use case loads, applies, saves
and commits. What needs storage (moving the customer's open work at the transfer) the use
case runs itself when the outcome says a transfer is due, then ``transferred`` records it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from app.domain.access.principal import Principal
from app.domain.common.calendar import BusinessCalendar
from app.domain.common.errors import (
    FieldError,
    InvalidInput,
    NotFound,
    PreconditionUnmet,
    TransitionNotAllowed,
)
from app.domain.common.ids import new_id
from app.domain.handovers.model import (
    ChecklistItem,
    Finding,
    Handover,
    HandoverState,
    Notification,
    Side,
    Signature,
    Stakeholder,
)
from app.domain.handovers.standard import HandoverStandard
from app.domain.handovers.workflow import ACTIONS, AlreadySigned, Decision, Facts, check
from app.domain.training.competence import Competence


@dataclass(frozen=True)
class MeetingInput:
    held_on: date
    attendees: list[str]
    minutes: str


@dataclass(frozen=True)
class FollowUpInput:
    contacted_on: date
    channel: str
    outcome: str


@dataclass(frozen=True)
class NotificationInput:
    """Who was told and how; ``live_contacts`` are the customer's contacts one may name."""

    stakeholder: Stakeholder
    channel: str
    contact_id: UUID | None = None
    note: str = ""
    live_contacts: frozenset[UUID] = frozenset()


@dataclass(frozen=True)
class Inputs:
    """What an action is given besides who and when; each action reads its own."""

    notification: NotificationInput | None = None  # record_notification
    meeting: MeetingInput | None = None  # hold_meeting
    follow_up: FollowUpInput | None = None  # follow_up
    reason: str | None = None  # cancel
    item_key: str = ""  # verify, raise_finding
    text: str = ""  # raise_finding
    finding_id: UUID | None = None  # resolve_finding
    resolution: str = ""  # resolve_finding
    competence: Competence | None = None  # sign: what the signer holds, while a rule is on


NO_INPUTS = Inputs()


@dataclass(frozen=True)
class Event:
    """handover.<name> and its data, with the handover as it stood when it happened."""

    name: str
    data: dict[str, Any]
    handover: Handover


@dataclass(frozen=True)
class Outcome:
    """The handover after an action, to be saved with ``event`` and its ``data``;
    ``announced`` happened on the way and are told first. ``transfer_due``: the last
    required signature was given, so the customer and its open work move now, in the same
    transaction."""

    handover: Handover
    event: str
    data: dict[str, Any]
    announced: tuple[Event, ...] = ()
    transfer_due: bool = False

    def told(self) -> tuple[Event, ...]:
        """Every event of this outcome, its own last: what is told when another outcome
        (the transfer) continues it instead of it being saved."""
        return (*self.announced, Event(self.event, self.data, self.handover))


Effect = Callable[[Handover, Decision, Principal, datetime, Inputs], Outcome]
_T = TypeVar("_T")


def _given(value: _T | None, pointer: str) -> _T:
    if value is None:
        raise InvalidInput([FieldError(pointer, "missing")])
    return value


def _moved(h: Handover, d: Decision, event: str, data: dict[str, Any] | None = None,
           **changes: Any) -> Outcome:
    """A step along the table: the target state, its timestamps, and from/to announced."""
    return Outcome(replace(h, state=d.target, **changes), event,
                   {"from": h.state, "to": d.target, **(data or {})})


def _item(h: Handover, key: str) -> ChecklistItem:
    item = h.item(key)
    if item is None:
        raise NotFound(entity="checklist_item")
    return item


def _with_item(h: Handover, item: ChecklistItem) -> Handover:
    return replace(h, items=[item if i.key == item.key else i for i in h.items])


def _record_notification(h: Handover, d: Decision, who: Principal, now: datetime,
                         i: Inputs) -> Outcome:
    """通知: the customer is told through one of its live contacts, the others are the
    handover's people."""
    n = _given(i.notification, "/stakeholder")
    if n.stakeholder is Stakeholder.CUSTOMER_CONTACT:
        if n.contact_id not in n.live_contacts:
            raise InvalidInput([FieldError("/contact_id", "contact_unknown")])
    elif n.contact_id is not None:
        raise InvalidInput([FieldError("/contact_id", "only_for_customer_contact")])
    user_id = {Stakeholder.HANDING_OVER_MANAGER: h.from_manager_id,
               Stakeholder.RECEIVING_MANAGER: h.to_manager_id}.get(n.stakeholder)
    told = Notification(new_id(), n.stakeholder, user_id, n.contact_id, n.channel, now,
                        who.id, n.note)
    return Outcome(replace(h, notifications=[*h.notifications, told]), "stakeholder_notified",
                   {"stakeholder": n.stakeholder, "channel": n.channel})


def _notify(h: Handover, d: Decision, who: Principal, now: datetime, i: Inputs) -> Outcome:
    return _moved(h, d, "notified", notified_at=now)


def _start_preparation(h: Handover, d: Decision, who: Principal, now: datetime,
                       i: Inputs) -> Outcome:
    return _moved(h, d, "preparation_started", preparation_started_at=now)


def _hold_meeting(h: Handover, d: Decision, who: Principal, now: datetime,
                  i: Inputs) -> Outcome:
    meeting = _given(i.meeting, "/meeting")
    if h.requirements.minutes and not meeting.minutes.strip():
        raise InvalidInput([FieldError("/minutes", "minutes_required")])
    return _moved(h, d, "meeting_held", meeting_held_at=now, meeting={
        "held_on": meeting.held_on.isoformat(), "attendees": meeting.attendees,
        "minutes": meeting.minutes, "recorded_by": str(who.id)})


def _follow_up(h: Handover, d: Decision, who: Principal, now: datetime, i: Inputs) -> Outcome:
    """The receiver's contact after the transfer, never dated before it; on time when by
    the due day."""
    contact = _given(i.follow_up, "/follow_up")
    if h.transferred_at and contact.contacted_on < h.transferred_at.date():
        raise InvalidInput([FieldError("/contacted_on", "before_transfer")])
    on_time = h.follow_up_due is None or contact.contacted_on <= h.follow_up_due
    return _moved(h, d, "followed_up", {"on_time": on_time}, followed_up_at=now, follow_up={
        "contacted_on": contact.contacted_on.isoformat(), "channel": contact.channel,
        "outcome": contact.outcome, "recorded_by": str(who.id), "on_time": on_time})


def _cancel(h: Handover, d: Decision, who: Principal, now: datetime, i: Inputs) -> Outcome:
    if not (i.reason or "").strip():
        raise InvalidInput([FieldError("/reason", "missing")])
    return _moved(h, d, "cancelled", {"reason": i.reason}, cancelled_at=now,
                  cancel_reason=i.reason)


def _verify(h: Handover, d: Decision, who: Principal, now: datetime, i: Inputs) -> Outcome:
    """核对: the caller verifies the item for their side (a head does so for a departed
    handing-over manager), once per side and never over an open finding."""
    item = _item(h, i.item_key)
    side = Side.RECEIVING if who.id == h.to_manager_id else Side.HANDING_OVER
    if any(f.open for f in h.findings if f.item_key == item.key):
        raise PreconditionUnmet(action="verify", reason="open_findings")
    if side is Side.RECEIVING:
        if item.receiving_verified_at is not None:
            raise AlreadySigned(state="item_verified", item=item.key, side=side)
        verified = replace(item, receiving_verified_by=who.id, receiving_verified_at=now)
    else:
        if item.handing_over_verified_at is not None:
            raise AlreadySigned(state="item_verified", item=item.key, side=side)
        verified = replace(item, handing_over_verified_by=who.id, handing_over_verified_at=now)
    return Outcome(_with_item(h, verified), "item_verified", {"item": item.key, "side": side})


def _raise_finding(h: Handover, d: Decision, who: Principal, now: datetime,
                   i: Inputs) -> Outcome:
    """A discrepancy clears the item's verifications (they no longer hold) and blocks
    sign-off until resolved."""
    item = _item(h, i.item_key)
    finding = Finding(new_id(), item.key, who.id, i.text, now)
    cleared = replace(item, handing_over_verified_by=None, handing_over_verified_at=None,
                      receiving_verified_by=None, receiving_verified_at=None)
    return Outcome(replace(_with_item(h, cleared), findings=[*h.findings, finding]),
                   "finding_raised", {"item": item.key, "finding_id": str(finding.id)})


def _resolve_finding(h: Handover, d: Decision, who: Principal, now: datetime,
                     i: Inputs) -> Outcome:
    finding = h.finding(i.finding_id)
    if finding is None:
        raise NotFound(entity="finding")
    if not finding.open:
        raise PreconditionUnmet(action="resolve_finding", reason="finding_already_resolved")
    resolved = replace(finding, resolved_by=who.id, resolution=i.resolution, resolved_at=now)
    return Outcome(replace(h, findings=[resolved if f.id == finding.id else f
                                        for f in h.findings]),
                   "finding_resolved", {"item": finding.item_key, "finding_id": str(finding.id)})


def _sign(h: Handover, d: Decision, who: Principal, now: datetime, i: Inputs) -> Outcome:
    """One signature in the capacity ``check`` decided; the last one the level requires
    signs the handover and makes the transfer due."""
    assert d.capacity is not None  # check decides the capacity of every signature
    signed = replace(h, signatures=[*h.signatures,
                                    Signature(d.capacity, who.id, now, d.on_behalf_of)])
    given = Event("signature_given", {
        "role": d.capacity,
        "on_behalf_of": str(d.on_behalf_of) if d.on_behalf_of else None}, signed)
    if signed.missing_signatures():
        return Outcome(signed, "signed_by", {"role": d.capacity}, (given,))
    return Outcome(replace(signed, signed_at=now, state=HandoverState.SIGNED), "signed", {},
                   (given,), transfer_due=True)


EFFECTS: dict[str, Effect] = {
    "record_notification": _record_notification, "notify": _notify,
    "start_preparation": _start_preparation, "hold_meeting": _hold_meeting,
    "verify": _verify, "raise_finding": _raise_finding, "resolve_finding": _resolve_finding,
    "sign": _sign, "follow_up": _follow_up, "cancel": _cancel,
}
# The actions that only move the state along the table (one use case takes them all).
TRANSITIONS = frozenset(name for name, action in ACTIONS.items() if action.target is not None)


def require_transition(name: str) -> None:
    """Refuse an action that only moves the state through the general ``transition`` use
    case when it is not one (signing, verifying and findings store parts of their own)."""
    if name not in TRANSITIONS:
        raise TransitionNotAllowed(action=name, state="any", allowed="none")


def apply(f: Facts, name: str, principal: Principal, now: datetime,
          inputs: Inputs = NO_INPUTS) -> Outcome:
    """The handover after ``principal`` takes ``name`` at ``now``, or why not: the table's
    refusal first (TransitionNotAllowed, NotYourAction, AlreadySigned, PreconditionUnmet),
    then the inputs' (InvalidInput, NotFound)."""
    decision = check(f, name, principal, inputs.competence)
    return EFFECTS[name](f.handover, decision, principal, now, inputs)


def transferred(h: Handover, now: datetime, moved: dict[str, Any], standard: HandoverStandard,
                calendar: BusinessCalendar) -> Outcome:
    """The signed handover once its customer and ``moved`` work changed hands: the
    follow-up falls due the level's working days later, the satisfaction pulse (when the
    level asks for one) the standard's days later."""
    pulse_due_on = (now + timedelta(days=standard.satisfaction_pulse_days)).date() \
        if h.requirements.satisfaction_pulse else h.pulse_due_on
    done = replace(h, transfer=moved, transferred_at=now, state=HandoverState.TRANSFERRED,
                   follow_up_due=calendar.add_working_days(
                       now, standard.follow_up_working_days[h.level]),
                   pulse_due_on=pulse_due_on)
    return Outcome(done, "transferred", moved)
