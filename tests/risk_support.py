"""Builders for risk-register scenarios, shared by the risk and handover tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import Actor, unique

RISKS = "/api/v1/risks"


async def make_risk(client: httpx.AsyncClient, who: Actor, **fields: Any) -> dict[str, Any]:
    body = {"title": unique("风险"), "likelihood": 2, "impact": 2, **fields}
    response = await client.post(RISKS, headers=who.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]
