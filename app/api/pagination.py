"""Keyset pagination over HTTP: ``limit``, ``cursor``, ``sort`` in; ``{data, next_cursor}`` out.

Cursors are opaque and signed, and bound to the sort they were issued for, so a tampered
or mismatched cursor is a 400 rather than a wrong page.
"""


import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Query, Request
from pydantic import BaseModel, Field

from app.api.container import services
from app.domain.common.errors import InvalidCursor
from app.domain.common.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, PageRequest, Sort

T = TypeVar("T")
_DIGEST_BYTES = 16


class ListPage(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null "
                                                "at the end")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def encode_cursor(key: bytes, path: str, sort: Sort, after: tuple[Any, ...]) -> str:
    """Signed, and bound to the list (path) and sort it was issued for."""
    payload = json.dumps({"p": path, "s": str(sort), "a": [_plain(v) for v in after]},
                         separators=(",", ":")).encode()
    mac = hmac.new(key, payload, hashlib.sha256).digest()[:_DIGEST_BYTES]
    return f"{_b64(payload)}.{_b64(mac)}"


def decode_cursor(key: bytes, path: str, sort: Sort, cursor: str) -> tuple[Any, ...]:
    try:
        payload_text, mac_text = cursor.split(".")
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except (ValueError, binascii.Error) as exc:
        raise InvalidCursor() from exc
    expected = hmac.new(key, payload, hashlib.sha256).digest()[:_DIGEST_BYTES]
    if not hmac.compare_digest(mac, expected):
        raise InvalidCursor()
    data = json.loads(payload)
    if data.get("p") != path or data.get("s") != str(sort) or not isinstance(data.get("a"),
                                                                                 list):
        raise InvalidCursor()
    return tuple(data["a"])


def page_params(sortable: Sequence[str], default: str) -> Callable[..., PageRequest]:
    """A dependency reading ``limit``, ``cursor`` and ``sort`` (one of ``sortable``,
    ``-`` for descending)."""
    pattern = "^-?(" + "|".join(re.escape(s) for s in sortable) + ")$"

    async def dependency(  # async: no thread-pool hop for every list request
        request: Request,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, Query(max_length=1000,
                                            description="`next_cursor` of the previous page")]
        = None,
        sort: Annotated[str, Query(pattern=pattern, description="Sort key; `-` for "
                                   f"descending. One of: {', '.join(sortable)}")] = default,
    ) -> PageRequest:
        parsed = Sort.parse(sort)
        after = decode_cursor(services(request).cursor_key, request.url.path, parsed,
                              cursor) if cursor else None
        return PageRequest(sort=parsed, limit=limit, after=after)

    return dependency


def list_page(request: Request, page: Page[Any], request_page: PageRequest,
              to_item: Callable[[Any], BaseModel]) -> dict[str, Any]:
    next_cursor = None
    if page.next_after is not None:
        next_cursor = encode_cursor(services(request).cursor_key, request.url.path,
                                    request_page.sort, page.next_after)
    return {"data": [to_item(i) for i in page.items], "next_cursor": next_cursor}
