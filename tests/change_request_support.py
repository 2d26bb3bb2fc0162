"""Builders for change-request scenarios (变更管理), shared by the change-request tests: a
complete form, one call per workflow action with If-Match from the body last read, the
assessment panel, approval decisions addressed by step, and ``drive`` which takes a fresh
change to any state along the documented path, so every test starts where it needs to."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.customer_support import contact, if_match, make_customer
from tests.support import Actor, Actors, list_all, unique, versioned

CHANGE_REQUESTS = "/api/v1/change-requests"
HIGH_VALUE = {"annual_revenue": "4000000.00", "strategic_importance": 5,
              "growth_potential": 4}  # value score 85.0: tier A under the default policy
SMALL = {"cost": "10000.00", "likelihood": 1, "impact": 1}  # chain: the department head only
# The happy path of a normal change, state by state.
PATH = ["draft", "submitted", "assessing", "awaiting_approval", "approved", "implementing",
        "implemented", "closed"]


def path_of(cr: dict[str, Any], suffix: str = "") -> str:
    return f"{CHANGE_REQUESTS}/{cr['id']}{suffix}"


def form(**fields: Any) -> dict[str, Any]:
    """A complete change-request form (submit accepts it)."""
    return {"title": unique("二期上线时间调整"), "description": "客户要求增加监管报表模块",
            "reason": "业务部门新增监管报送需求", "expected_effect": "按期满足监管报送",
            "category": "scope", "type": "normal", "priority": "high",
            "requested_completion_date": "2027-03-31", **fields}


async def customer_of(client: httpx.AsyncClient, am: Actor, **fields: Any) -> dict[str, Any]:
    """A customer owned by ``am`` with one contact (for customer inputs and reports)."""
    return await make_customer(client, am, contacts=[contact()], **fields)


async def draft(client: httpx.AsyncClient, who: Actor, customer: dict[str, Any],
                **fields: Any) -> dict[str, Any]:
    response = await client.post(CHANGE_REQUESTS, headers=who.headers,
                                 json={"customer_id": customer["id"], **form(**fields)})
    body = versioned(response, 201)
    assert response.headers["location"] == path_of(body)
    return body


async def read_cr(client: httpx.AsyncClient, who: Actor, cr: dict[str, Any]) -> dict[str, Any]:
    """The change as ``who`` sees it now (200 expected, ETag = version)."""
    return versioned(await client.get(path_of(cr), headers=who.headers))


def headers(who: Actor, cr: dict[str, Any] | int, key: str | None = None) -> dict[str, str]:
    """``who``'s credentials, If-Match for the version read and an optional key."""
    return {**who.headers, **if_match(cr), **({"Idempotency-Key": key} if key else {})}


async def act(client: httpx.AsyncClient, who: Actor, cr: dict[str, Any], action: str,
              comment: str = "", key: str | None = None) -> httpx.Response:
    """POST one workflow action (``start_assessment`` → ``/start-assessment``)."""
    return await client.post(path_of(cr, "/" + action.replace("_", "-")),
                             headers=headers(who, cr, key), json={"comment": comment})


async def moved(client: httpx.AsyncClient, who: Actor, cr: dict[str, Any], action: str,
                comment: str = "") -> dict[str, Any]:
    response = await act(client, who, cr, action, comment)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["version"] == cr["version"] + 1
    return body


def assessment(**fields: Any) -> dict[str, Any]:
    return {"necessity": 4, "feasibility": 4, "scope_impact": "新增报表模块",
            "schedule_days": 20, "cost": "80000.00", "resources": "两名开发",
            "likelihood": 4, "impact": 4, "recommendation": "proceed", "comment": "可行",
            **fields}


async def assess(client: httpx.AsyncClient, who: Actor, cr: dict[str, Any],
                 **fields: Any) -> httpx.Response:
    return await client.post(path_of(cr, "/assessments"), headers=who.headers,
                             json=assessment(**fields))


async def panel(client: httpx.AsyncClient, actors: Actors,
                cr: dict[str, Any]) -> dict[str, Any]:
    """The project manager's and the tech expert's entries for the current round."""
    for who in (actors.pm, actors.tech):
        response = await assess(client, who, cr)
        assert response.status_code == 201, response.text
    return await read_cr(client, actors.pm, cr)


async def conclude(client: httpx.AsyncClient, pm: Actor, cr: dict[str, Any],
                   cost: str = "80000.00", likelihood: int = 4, impact: int = 4,
                   **fields: Any) -> httpx.Response:
    body = {"cost": cost, "currency": "CNY", "schedule_days": 20, "likelihood": likelihood,
            "impact": impact, "recommendation": "proceed", "summary": "评估通过", **fields}
    return await client.post(path_of(cr, "/conclude-assessment"), headers=headers(pm, cr),
                             json=body)


async def decide(client: httpx.AsyncClient, who: Actor, cr: dict[str, Any],
                 step: dict[str, Any], decision: str = "approve", comment: str = "",
                 key: str | None = None) -> httpx.Response:
    return await client.post(path_of(cr, f"/approvals/{step['id']}/{decision}"),
                             headers=headers(who, cr, key), json={"comment": comment})


async def attempt(client: httpx.AsyncClient, who: Actor, cr: dict[str, Any],
                  action: str) -> httpx.Response:
    """Any workflow action by ``who`` on the version of ``cr`` read: approvals address the
    current round's first step (or a made-up one when there is none), the conclusion
    carries the default estimates."""
    if action in ("approve", "reject", "return"):
        steps = cr["approval_steps"] or [{"id": str(uuid.uuid4())}]
        return await decide(client, who, cr, steps[0], action)
    if action == "conclude_assessment":
        return await conclude(client, who, cr, **SMALL)
    return await act(client, who, cr, action)


def chain(cr: dict[str, Any]) -> list[str]:
    return [s["role"] for s in cr["approval_steps"]]


def approver(actors: Actors, role: str) -> Actor:
    return {"department_head": actors.head_east, "finance": actors.finance,
            "executive": actors.executive}[role]


async def approve_all(client: httpx.AsyncClient, actors: Actors,
                      cr: dict[str, Any]) -> dict[str, Any]:
    """Each step in order by the matching approver of department east."""
    for step in cr["approval_steps"]:
        response = await decide(client, approver(actors, step["role"]), cr, step)
        assert response.status_code == 200, response.text
        cr = response.json()
    assert cr["state"] == "approved", cr
    return cr


async def review(client: httpx.AsyncClient, who: Actor, cr: dict[str, Any],
                 **fields: Any) -> httpx.Response:
    body = {"goals_met": "yes", "actual_cost": "78000.00", "actual_schedule_days": 18,
            "customer_satisfaction": 5, "lessons_learned": "提前与客户确认报表口径", **fields}
    return await client.post(path_of(cr, "/review"), headers=headers(who, cr), json=body)


async def drive(client: httpx.AsyncClient, actors: Actors, to: str,
                customer: dict[str, Any] | None = None, cr_type: str = "normal",
                **estimates: Any) -> dict[str, Any]:
    """A fresh change of ``actors.am_east``'s (requester) taken to state ``to``: a state on
    ``PATH`` or a side exit (``rejected``, ``cancelled``, ``returned``). Standard changes
    skip assessment and approval, emergency ones assessment."""
    am, pm = actors.am_east, actors.pm
    customer = customer or await customer_of(client, am)
    cr = await draft(client, am, customer, type=cr_type)
    if to == "cancelled":
        return await moved(client, am, cr, "cancel", "不再需要")
    if to == "draft":
        return cr
    cr = await moved(client, am, cr, "submit")
    if cr_type == "normal":
        if to == "submitted":
            return cr
        cr = await moved(client, pm, cr, "start_assessment")
        if to == "assessing":
            return cr
        if to == "returned":
            return await moved(client, pm, cr, "return_from_assessment", "请补充需求说明")
        cr = await panel(client, actors, cr)
        concluded = await conclude(client, pm, cr, **(estimates or SMALL))
        assert concluded.status_code == 200, concluded.text
        cr = concluded.json()
    if to == "awaiting_approval":
        return cr
    if to == "rejected":
        step = cr["approval_steps"][0]
        response = await decide(client, approver(actors, step["role"]), cr, step, "reject",
                                "预算不足")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]
    if cr_type != "standard":
        cr = await approve_all(client, actors, cr)
    if to == "approved":
        return cr
    cr = await moved(client, am, cr, "start_implementation")
    if to == "implementing":
        return cr
    cr = await moved(client, am, cr, "complete_implementation")
    if to == "implemented":
        return cr
    reviewed = await review(client, am, cr)
    assert reviewed.status_code == 200, reviewed.text
    cr = reviewed.json()
    if cr_type == "emergency":
        cr = await moved(client, actors.head_east, cr, "review_emergency")
    closed = await moved(client, am, cr, "close")
    assert closed["state"] == to == "closed", closed
    return closed


async def events_of(client: httpx.AsyncClient, reader: Actor, cr: dict[str, Any]) -> list[str]:
    """The change's events on its customer's timeline, oldest first."""
    timeline = await list_all(client, f"/api/v1/customers/{cr['customer_id']}/timeline",
                              reader.headers)
    return [e["type"] for e in reversed(timeline)
            if e["entity_type"] == "change_request" and e["entity_id"] == cr["id"]]
