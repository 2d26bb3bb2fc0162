"""The handover workflow (domain §4) written down independently of the code's table, for
the tests that hold the code to it (through the use cases, and through HTTP)."""

from __future__ import annotations

# action: (states it leaves from, the parties that take it) — domain §4, not the code's table.
TABLE: dict[str, tuple[set[str], set[str]]] = {
    "record_notification": ({"draft", "notified"}, {"giver", "head", "admin"}),
    "notify": ({"draft"}, {"giver", "head", "admin"}),
    "start_preparation": ({"draft", "notified"}, {"giver", "head", "admin"}),
    "verify": ({"preparing", "meeting_held"}, {"giver", "taker"}),
    "raise_finding": ({"preparing", "meeting_held"}, {"giver", "taker", "head"}),
    "resolve_finding": ({"preparing", "meeting_held"}, {"giver", "taker", "head"}),
    "hold_meeting": ({"preparing"}, {"giver", "taker", "head"}),
    "sign": ({"preparing", "meeting_held"}, {"giver", "taker"}),  # standard: two signatures
    "follow_up": ({"transferred"}, {"taker"}),
    "cancel": ({"draft", "notified", "preparing", "meeting_held"}, {"giver", "head", "admin"}),
}
STATES = ["draft", "notified", "preparing", "meeting_held", "transferred", "followed_up",
          "cancelled"]
# Allowed for a party, but a guard refuses it in the state drive() leaves the handover in.
UNMET = {("notify", "draft"): "stakeholders_not_notified",
         ("start_preparation", "draft"): "notification_required",
         ("sign", "preparing"): "materials_not_verified",
         ("sign", "meeting_held"): "materials_not_verified"}


def possible(state: str) -> list[str]:
    return sorted(a for a, (sources, _) in TABLE.items() if state in sources)


def expected_actions(party: str, state: str) -> list[str]:
    return [a for a in possible(state) if party in TABLE[a][1] and (a, state) not in UNMET]
