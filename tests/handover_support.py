"""Builders for handover scenarios (客户移交), shared by the handover tests: customers of a
given tier, a handover started and read through the API, one call per action with If-Match
from the body last read, and ``prepare`` which notifies and verifies everything the level
asks for, so a test starts where it needs to."""

from __future__ import annotations

from typing import Any

import httpx

from tests.customer_support import contact, if_match, make_customer
from tests.support import Actor, Actors, versioned

HANDOVERS = "/api/v1/handovers"
# Inputs whose value score earns each tier under the default tier policy.
TIER_INPUTS = {
    "A": {"annual_revenue": "4000000.00", "strategic_importance": 5, "growth_potential": 4},
    "B": {"annual_revenue": "3000000.00", "strategic_importance": 4, "growth_potential": 3},
    "C": {"annual_revenue": "1000000.00", "strategic_importance": 3, "growth_potential": 2},
    "D": {},
}


def path_of(handover: dict[str, Any], suffix: str = "") -> str:
    return f"{HANDOVERS}/{handover['id']}{suffix}"


async def customer_of_tier(client: httpx.AsyncClient, owner: Actor, tier: str,
                           **fields: Any) -> dict[str, Any]:
    customer = await make_customer(client, owner, contacts=[contact(is_primary=True)],
                                   **TIER_INPUTS[tier], **fields)
    assert customer["tier"]["effective"] == tier, customer["tier"]
    return customer


async def start(client: httpx.AsyncClient, who: Actor, customer: dict[str, Any], to: Actor,
                reason: str = "reassignment", **fields: Any) -> dict[str, Any]:
    response = await client.post(HANDOVERS, headers=who.headers, json={
        "customer_id": customer["id"], "to_manager_id": to.id, "reason": reason, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["location"] == path_of(body)
    return body


async def read(client: httpx.AsyncClient, who: Actor, handover: dict[str, Any]
               ) -> dict[str, Any]:
    return versioned(await client.get(path_of(handover), headers=who.headers))


async def post(client: httpx.AsyncClient, who: Actor, handover: dict[str, Any], suffix: str,
               body: dict[str, Any] | None = None, *, versioned: bool = True,
               key: str | None = None) -> httpx.Response:
    """POST to one of the handover's action endpoints as ``who``."""
    headers = {**who.headers, **(if_match(handover) if versioned else {}),
               **({"Idempotency-Key": key} if key else {})}
    return await client.post(path_of(handover, suffix), headers=headers, json=body or {})


async def ok(client: httpx.AsyncClient, who: Actor, handover: dict[str, Any], suffix: str,
             body: dict[str, Any] | None = None, *, versioned: bool = True) -> dict[str, Any]:
    response = await post(client, who, handover, suffix, body, versioned=versioned)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


async def notify_all(client: httpx.AsyncClient, who: Actor, handover: dict[str, Any],
                     customer: dict[str, Any]) -> dict[str, Any]:
    """Record every stakeholder the level asks for, then take the ``notify`` step."""
    h = handover
    required = {"strict": ["handing_over_manager", "receiving_manager", "department_head",
                           "customer_contact"],
                "standard": ["handing_over_manager", "receiving_manager", "department_head"],
                "light": []}[h["level"]]
    for stakeholder in required:
        body: dict[str, Any] = {"stakeholder": stakeholder, "channel": "email"}
        if stakeholder == "customer_contact":
            body["contact_id"] = customer["contacts"][0]["id"]
        h = await ok(client, who, h, "/notifications", body, versioned=False)
    if required:
        h = await ok(client, who, h, "/notify")
    return h


async def prepare(client: httpx.AsyncClient, actors: Actors, handover: dict[str, Any],
                  customer: dict[str, Any], giver: Actor, taker: Actor) -> dict[str, Any]:
    """Notified, preparing, every item verified by both (when the level asks) and, for a
    strict handover, the meeting held: ready to sign."""
    h = await notify_all(client, giver, handover, customer)
    h = await ok(client, giver, h, "/start-preparation")
    if h["level"] != "light":
        for item in h["checklist"]:
            for who in (giver, taker):
                h = await ok(client, who, h, f"/checklist/{item['key']}/verify",
                             versioned=False)
    if h["level"] == "strict":
        h = await ok(client, giver, h, "/meeting", {
            "held_on": "2026-12-01", "attendees": ["交接人", "接收人", "部门主管"],
            "minutes": "逐项核对客户资料，确认未结变更由接收人跟进"})
    return h


async def sign_all(client: httpx.AsyncClient, h: dict[str, Any], giver: Actor,
                   taker: Actor, head: Actor) -> dict[str, Any]:
    """Every signature the level asks for, in the order asked: then it is transferred."""
    signers = {"handing_over": giver, "receiving": taker, "department_head": head}
    while h["state"] != "transferred":
        h = await ok(client, signers[h["missing_signatures"][0]], h, "/sign")
    return h
