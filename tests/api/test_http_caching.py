"""Compression and conditional requests (RFC 9110 §13): gzip for a client that accepts it
and only then, the ETag unchanged by it; 304 for a copy that is still current; If-Match
with ``*`` or a list of ETags."""

from __future__ import annotations

import httpx

from tests import conftest
from tests.customer_support import make_customer
from tests.support import Actors, assert_problem, unique, versioned

DOCUMENT = "/openapi.json"
CSV_REPORT = "/api/v1/reports/feedback?format=csv"


async def get_with(client: httpx.AsyncClient, path: str, headers: dict[str, str],
                   accept_encoding: str | None) -> httpx.Response:
    """GET with exactly this Accept-Encoding (None: the header is not sent at all)."""
    request = client.build_request("GET", path, headers=headers)
    del request.headers["accept-encoding"]
    if accept_encoding is not None:
        request.headers["accept-encoding"] = accept_encoding
    return await client.send(request)


async def test_large_answers_are_gzipped_only_for_clients_that_accept_gzip(
        client: httpx.AsyncClient, actors: Actors) -> None:
    zipped = await get_with(client, DOCUMENT, {}, "gzip, deflate")
    assert zipped.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped.headers["vary"].lower()
    assert int(zipped.headers["content-length"]) < len(zipped.content) / 3
    for refused in (None, "identity", "br"):
        plain = await get_with(client, DOCUMENT, {}, refused)
        assert "content-encoding" not in plain.headers, refused
        assert plain.content == zipped.content  # httpx decoded the gzip one
    csv_plain = await get_with(client, CSV_REPORT, actors.admin.headers, None)
    csv_zipped = await get_with(client, CSV_REPORT, actors.admin.headers, "gzip")
    assert csv_plain.status_code == csv_zipped.status_code == 200, csv_plain.text
    assert csv_plain.content.startswith("\ufeff".encode())
    assert csv_zipped.content == csv_plain.content
    assert csv_zipped.headers["content-disposition"] == csv_plain.headers["content-disposition"]


async def test_gzip_keeps_the_etag_that_if_match_names(
        client_with: conftest.ClientWith, actors: Actors) -> None:
    async with client_with(gzip_min_bytes=0) as client:
        customer = await make_customer(client, actors.am_east)
        path = f"/api/v1/customers/{customer['id']}"
        read = await get_with(client, path, actors.am_east.headers, "gzip")
        assert read.headers["content-encoding"] == "gzip"
        assert versioned(read)["version"] == customer["version"]  # ETag = version, as ever
        changed = await client.patch(path, json={"name": unique("压缩后改名")}, headers={
            **actors.am_east.headers, "If-Match": read.headers["etag"]})
        assert versioned(changed)["version"] == customer["version"] + 1


async def test_if_none_match_answers_304_while_the_copy_is_current(
        client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await make_customer(client, actors.am_east)
    path = f"/api/v1/customers/{customer['id']}"
    etag = f'"{customer["version"]}"'
    for header in (etag, f"W/{etag}", "*", f'"999", {etag}'):
        for encoding in ("gzip", None):
            cached = await get_with(client, path, {**actors.am_east.headers,
                                                   "If-None-Match": header}, encoding)
            assert cached.status_code == 304, (header, cached.text)
            assert cached.headers["etag"] == etag
            assert cached.content == b""
            assert "content-encoding" not in cached.headers
    stale = await client.get(path, headers={**actors.am_east.headers,
                                            "If-None-Match": '"999", W/"998"'})
    assert versioned(stale)["id"] == customer["id"]
    garbled = await client.get(path, headers={**actors.am_east.headers,
                                              "If-None-Match": "not-a-tag"})
    assert versioned(garbled)["id"] == customer["id"]
    other = await client.get(path, headers={**actors.am_west.headers, "If-None-Match": "*"})
    assert_problem(other, 404, "not_found")  # never a 304 for what the caller cannot see


async def test_if_match_takes_any_version_or_a_list_of_etags(
        client: httpx.AsyncClient, actors: Actors) -> None:
    customer = await make_customer(client, actors.am_east)
    path = f"/api/v1/customers/{customer['id']}"

    async def rename(if_match: str) -> httpx.Response:
        return await client.patch(path, json={"name": unique("改名")}, headers={
            **actors.am_east.headers, "If-Match": if_match})

    version = customer["version"]
    assert versioned(await rename("*"))["version"] == version + 1
    version += 1
    assert versioned(await rename(f'"{version - 1}", "{version}"'))["version"] == version + 1
    version += 1
    stale = assert_problem(await rename(f'"{version - 2}", "{version - 1}"'), 412,
                           "precondition_failed")
    assert f"version {version}" in stale["detail"], stale
    assert str(version - 2) in stale["detail"] and str(version - 1) in stale["detail"]
    assert_problem(await rename(f'W/"{version}"'), 412, "precondition_failed")
    assert_problem(await rename("3, 4"), 412, "precondition_failed")
    assert versioned(await client.get(path, headers=actors.am_east.headers))[
        "version"] == version
