"""Builders for customer scenarios, shared by every customer test: fresh valid credit codes
(GB 32100-2015 check character computed by python-stdnum, so no fixture collides with
another customer's), fresh mainland mobiles, and a customer made and read through the API."""

from __future__ import annotations

import random
from typing import Any

import httpx
from stdnum.cn import uscc

from tests.support import Actor, list_all, unique, versioned

CUSTOMERS = "/api/v1/customers"
_random = random.SystemRandom()


def credit_code(check: str | None = None) -> str:
    """A valid 统一社会信用代码 never handed out before (9 = enterprise, 1 = company, a
    Shenzhen region code, a random organisation code). ``check`` asks for a code whose
    check character is that one (e.g. ``"0"``), found by computing it over random bodies."""
    while True:
        body = "91440300" + "".join(_random.choices("0123456789ABCDEFGHJKLMNPQRTUWXY", k=9))
        digit = uscc.calc_check_digit(body)
        if check is None or digit == check:
            return body + digit


def mobile() -> str:
    """A fresh mainland mobile number as people write it (``139 xxxx xxxx``)."""
    digits = f"{_random.randrange(10**8):08d}"
    return f"139 {digits[:4]} {digits[4:]}"


def contact(name: str = "李娜", **fields: Any) -> dict[str, Any]:
    """A contact body with a fresh phone and e-mail unless given."""
    return {"name": name, "phones": [{"number": mobile()}],
            "emails": [{"address": f"{unique('c')}@example.cn"}], **fields}


async def make_customer(client: httpx.AsyncClient, who: Actor, **fields: Any) -> dict[str, Any]:
    """Create a customer as ``who`` (a company with a unique name unless given) and return
    the 201 body."""
    body = {"name": unique("测试客户"), **fields}
    response = await client.post(CUSTOMERS, headers=who.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def read_customer(client: httpx.AsyncClient, who: Actor,
                        customer_id: str) -> dict[str, Any]:
    """The customer as ``who`` sees it now (200 expected)."""
    return versioned(await client.get(f"{CUSTOMERS}/{customer_id}", headers=who.headers))


async def customer_ids(client: httpx.AsyncClient, who: Actor, **params: Any) -> set[str]:
    """Ids of every customer ``who`` lists with these filters (all pages)."""
    ids: set[str] = set()
    query: dict[str, Any] = {"limit": 200, **params}
    while True:
        response = await client.get(CUSTOMERS, headers=who.headers, params=query)
        assert response.status_code == 200, response.text
        ids |= {c["id"] for c in response.json()["data"]}
        if (cursor := response.json()["next_cursor"]) is None:
            return ids
        query["cursor"] = cursor


def e164(number: str) -> str:
    """A mainland number as the service stores it (``+86`` and digits)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"+{digits}" if number.startswith("+") else f"+86{digits}"


def if_match(version: int | dict[str, Any]) -> dict[str, str]:
    """The If-Match header for a version, or for a body that carries its ``version``."""
    value = version["version"] if isinstance(version, dict) else version
    return {"If-Match": f'"{value}"'}


async def customer_history(client: httpx.AsyncClient, who: Actor,
                           customer_id: str) -> list[dict[str, Any]]:
    """The customer's whole history as ``who`` reads it, newest first (all pages)."""
    return await list_all(client, f"{CUSTOMERS}/{customer_id}/history", who.headers)
