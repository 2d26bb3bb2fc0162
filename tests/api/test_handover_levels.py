"""Which level a handover follows (domain §4, 移交标准) and its risk assessment, through the
API: the tier's level, one step up for open work or many contacts, a high handover risk
always forcing strict, the policy endpoint, and each risk factor with its points."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.change_request_support import draft, moved, review
from tests.customer_support import contact, if_match, make_customer
from tests.handover_support import TIER_INPUTS, customer_of_tier, start
from tests.risk_support import make_risk
from tests.support import Actors, assert_problem

pytestmark = pytest.mark.asyncio(loop_scope="session")

STANDARD = "/api/v1/settings/handover-standard"
DEFAULT = {"tier_levels": {"A": "strict", "B": "standard", "C": "light", "D": "light"},
           "raise_at_open_items": 5, "raise_at_contacts": 10,
           "follow_up_working_days": {"strict": 3, "standard": 7, "light": 14},
           "satisfaction_pulse_days": 30}


def points(h: dict[str, Any]) -> dict[str, tuple[Any, int]]:
    return {f["name"]: (f["value"], f["points"]) for f in h["risk"]["factors"]}


async def handover_of(client: httpx.AsyncClient, actors: Actors, tier: str,
                      open_risks: int = 0, **fields: Any) -> dict[str, Any]:
    customer = await customer_of_tier(client, actors.am_east, tier, **fields)
    for _ in range(open_risks):
        await make_risk(client, actors.am_east, customer_id=customer["id"])
    return await start(client, actors.am_east, customer, actors.am_east2)


@pytest.mark.parametrize(("tier", "level", "impact", "risk"), [
    ("A", "strict", 5, "medium"), ("B", "standard", 4, "low"), ("C", "light", 3, "low"),
    ("D", "light", 2, "low")])
async def test_the_tier_sets_the_level_and_the_impact(
        client: httpx.AsyncClient, actors: Actors, tier: str, level: str, impact: int,
        risk: str) -> None:
    h = await handover_of(client, actors, tier)
    assert (h["level"], h["level_reasons"]) == (level, [f"tier_{tier}"])
    assert (h["risk"]["likelihood"], h["risk"]["impact"], h["risk"]["level"],
            h["risk_level"]) == (1, impact, risk, risk)
    assert points(h) == {"tier": (tier, 0), "years_served": (0.0, 0),
                         "latest_satisfaction": (None, 0), "open_complaints": (0, 0),
                         "open_high_risk_changes": (0, 0), "open_risks": (0, 0)}
    required = {"strict": ["handing_over", "receiving", "department_head"],
                "standard": ["handing_over", "receiving"], "light": ["receiving"]}[level]
    assert h["missing_signatures"] == required


async def test_open_items_lift_the_level_one_step(
        client: httpx.AsyncClient, actors: Actors) -> None:
    h = await handover_of(client, actors, "D", open_risks=5)
    assert (h["level"], h["level_reasons"]) == ("standard", ["tier_D", "open_items"])
    # Five open risks: 2 points; impact 2 → likelihood 3 × 2 is medium, which forces nothing.
    assert points(h)["open_risks"] == (5, 2)
    assert (h["risk"]["likelihood"], h["risk"]["level"]) == (3, "medium")
    four = await handover_of(client, actors, "D", open_risks=4)
    assert (four["level"], four["level_reasons"]) == ("light", ["tier_D"])


async def test_many_live_contacts_lift_the_level_one_step(
        client: httpx.AsyncClient, actors: Actors) -> None:
    found = []
    for count in (10, 9):
        contacts = [contact(is_primary=True)] + [contact(f"联系人{i}") for i in range(count - 1)]
        customer = await make_customer(client, actors.am_east, contacts=contacts,
                                       **TIER_INPUTS["C"])
        h = await start(client, actors.am_east, customer, actors.am_east2)
        found.append((h["level"], h["level_reasons"]))
    assert found == [("standard", ["tier_C", "complexity"]), ("light", ["tier_C"])]


async def test_a_high_handover_risk_always_forces_strict(
        client: httpx.AsyncClient, actors: Actors) -> None:
    # Three open risks: 2 points → likelihood 3 × impact 4 = 12, high.
    h = await handover_of(client, actors, "B", open_risks=3)
    assert points(h)["open_risks"] == (3, 2)
    assert (h["risk"]["likelihood"], h["risk"]["impact"], h["risk"]["level"]) == (3, 4, "high")
    assert (h["level"], h["level_reasons"]) == ("strict", ["tier_B", "risk_high"])
    assert h["missing_signatures"] == ["handing_over", "receiving", "department_head"]
    # One or two open risks are worth one point.
    one = await handover_of(client, actors, "C", open_risks=1)
    assert points(one)["open_risks"] == (1, 1)
    assert (one["risk"]["likelihood"], one["risk"]["level"], one["level"]) == (
        2, "medium", "light")


async def test_a_poor_latest_satisfaction_adds_to_the_likelihood(
        client: httpx.AsyncClient, actors: Actors) -> None:
    am = actors.am_east
    customer = await customer_of_tier(client, am, "C")
    for score in (5, 2):  # the latest reviewed change counts
        cr = await moved(client, am, await draft(client, am, customer, type="standard"),
                         "submit")
        cr = await moved(client, am, cr, "start_implementation")
        cr = await moved(client, am, cr, "complete_implementation")
        reviewed = await review(client, am, cr, customer_satisfaction=score)
        assert reviewed.status_code == 200, reviewed.text
        await moved(client, am, reviewed.json(), "close")
    h = await start(client, am, customer, actors.am_east2)
    assert points(h)["latest_satisfaction"] == (2, 2)
    assert (h["risk"]["likelihood"], h["risk"]["level"]) == (3, "medium")
    assert h["level"] == "light"


@pytest.fixture
async def restored_standard(client: httpx.AsyncClient, actors: Actors
                            ) -> AsyncIterator[dict[str, Any]]:
    """The policy as it is; put back whatever the test changed."""
    response = await client.get(STANDARD, headers=actors.am_east.headers)
    assert response.status_code == 200, response.text
    yield response.json()
    now = (await client.get(STANDARD, headers=actors.admin.headers)).json()
    back = await client.put(STANDARD, headers={**actors.admin.headers, **if_match(now)},
                            json=DEFAULT)
    assert back.status_code == 200, back.text


async def test_the_policy_changes_the_level_of_new_handovers_only(
        client: httpx.AsyncClient, actors: Actors, restored_standard: dict[str, Any]) -> None:
    admin = actors.admin
    assert {k: v for k, v in restored_standard.items() if k != "version"} == DEFAULT
    before = await handover_of(client, actors, "C")
    changed = {**DEFAULT, "tier_levels": {**DEFAULT["tier_levels"], "C": "standard"}}
    refused = await client.put(STANDARD, headers={**actors.head_east.headers,
                                                  **if_match(restored_standard)}, json=changed)
    assert refused.status_code == 403, refused.text
    missing = await client.put(STANDARD, headers=admin.headers, json=changed)
    assert missing.status_code == 428, missing.text
    stale = await client.put(STANDARD, headers={**admin.headers,
                                                **if_match(restored_standard["version"] + 5)},
                             json=changed)
    assert stale.status_code == 412, stale.text
    bad = await client.put(STANDARD, headers={**admin.headers, **if_match(restored_standard)},
                           json={**changed, "follow_up_working_days": {"strict": 0,
                                                                       "standard": 7,
                                                                       "light": 14}})
    assert_problem(bad, 422, "validation_failed")
    put = await client.put(STANDARD, headers={**admin.headers, **if_match(restored_standard)},
                           json=changed)
    assert put.status_code == 200, put.text
    assert put.json() == {**changed, "version": restored_standard["version"] + 1}
    assert put.headers["etag"] == f'"{restored_standard["version"] + 1}"'

    after = await handover_of(client, actors, "C")
    assert (after["level"], after["level_reasons"]) == ("standard", ["tier_C"])
    old = await client.get(f"/api/v1/handovers/{before['id']}", headers=admin.headers)
    assert old.json()["level"] == "light"  # a started handover keeps its level
