"""ETag / If-Match: optimistic concurrency on every versioned resource."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response

from app.domain.common.errors import VersionMismatch, VersionRequired


def etag_of(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_of(version)


async def if_match(  # async: no thread-pool hop on every write
    if_match: Annotated[str | None, Header(
        alias="If-Match", max_length=100,
        description="The ETag of the version you read; required for changes")] = None,
) -> int:
    """The version the client read. Missing → 428; not a strong ETag of ours → 412."""
    if if_match is None or not if_match.strip():
        raise VersionRequired()
    return _version(if_match)


def _version(if_match: str) -> int:
    value = if_match.strip()
    if value.startswith('"') and value.endswith('"') and value[1:-1].isdigit():
        return int(value[1:-1])
    raise VersionMismatch(current="?", expected=value)


async def optional_if_match(
    if_match: Annotated[str | None, Header(
        alias="If-Match", max_length=100,
        description="Optional here: the ETag you read, to refuse a change on a stale view")]
    = None,
) -> int | None:
    return None if if_match is None or not if_match.strip() else _version(if_match)
