"""ETag / If-Match: optimistic concurrency on every versioned resource; If-None-Match's
tags are read here too (the 304 middleware compares them)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Header, Response

from app.domain.common.errors import VersionMismatch
from app.domain.common.versions import AnyOf

ANY = "*"
IF_MATCH = "If-Match"
_TAG = r'(?:W/)?"[^"]*"'
_TAG_LIST = re.compile(rf"^\s*{_TAG}(?:\s*,\s*{_TAG})*\s*$")


def etag_of(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_of(version)


def entity_tags(header: str) -> tuple[str, ...] | None:
    """The members of an If-Match / If-None-Match value (RFC 9110 §13.1): ``("*",)``, or
    the entity tags as written (weak ones keep ``W/``); None when it is neither."""
    if header.strip() == ANY:
        return (ANY,)
    if not _TAG_LIST.match(header):
        return None
    return tuple(re.findall(_TAG, header))


def _expected(if_match: str) -> int | AnyOf:
    """One strong ETag of ours is that version; ``*`` or a list becomes ``AnyOf``, which
    the domain's version check resolves against the current version. If-Match compares
    strongly, so a weak tag never matches."""
    tags = entity_tags(if_match)
    if tags is None:
        raise VersionMismatch(current="?", expected=if_match.strip())
    if tags == (ANY,):
        return AnyOf(None)
    versions = [int(t[1:-1]) for t in tags if t[1:-1].isdigit()]
    if len(tags) == 1 and versions:
        return versions[0]
    return AnyOf(frozenset(versions))


async def if_match(  # async: no thread-pool hop on every write
    if_match: Annotated[str, Header(
        alias=IF_MATCH, max_length=100, pattern=r"\S",
        description='The ETag of the version you read; required for changes. `*` (any '
                    'version) and lists (`"3", "4"`) are accepted')],
) -> int | AnyOf:
    """The version the client read; not one of ours → 412. A missing or blank header is
    a validation error of the request, found with the body's own, so a bad body is a 422
    whether or not If-Match was sent; when it is the only one it becomes the 428 (see
    ``version_required``)."""
    return _expected(if_match)


def version_required(errors: Sequence[Any]) -> bool:
    """The request's only validation errors say that If-Match is missing or blank."""
    return bool(errors) and all(
        tuple(e.get("loc", ())) == ("header", IF_MATCH)
        and e.get("type") in ("missing", "string_pattern_mismatch") for e in errors)


async def optional_if_match(
    if_match: Annotated[str | None, Header(
        alias="If-Match", max_length=100,
        description="Optional here: the ETag you read, to refuse a change on a stale view")]
    = None,
) -> int | AnyOf | None:
    return None if if_match is None or not if_match.strip() else _expected(if_match)
