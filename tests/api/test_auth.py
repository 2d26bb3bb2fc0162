"""Authentication end to end: every forged or stale access token is refused, sign-in is
throttled per account and per address, refresh tokens rotate and a reused one signs the
whole family out, and no secret ever reaches the audit log or the logs.

Failed sign-ins always come from a fresh client address (``elsewhere``): the shared
``client`` address must never hit the per-address limit, or other tests could not sign in.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI
from jose import jwt

from app.adapters.tokens import REQUIRED_CLAIMS
from app.api import middleware, problems
from app.settings import DEVELOPMENT_SIGNING_KEY, Settings
from tests.conftest import client_for
from tests.conftest import test_settings as settings_for
from tests.support import (
    PASSWORD,
    Actor,
    Actors,
    actor,
    assert_problem,
    audit_entries,
    create_user,
    sign_in,
)

SETTINGS = settings_for("sqlite+aiosqlite://")
KEY = SETTINGS.signing_key.get_secret_value()
WRONG_PASSWORD = "wrong-horse-battery-0"
ME = "/api/v1/me"


# helpers -----------------------------------------------------------------------------

def fresh_address() -> str:
    a, b, c = secrets.token_bytes(3)
    return f"10.{a}.{b}.{c}"


def elsewhere(app: FastAPI) -> httpx.AsyncClient:
    """A client at an address no other test uses."""
    return client_for(app, fresh_address())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims(subject: str, **changes: Any) -> dict[str, Any]:
    """Valid access-token claims for ``subject``; a change to ``None`` drops the claim."""
    now = int(time.time())
    values = {"sub": subject, "iss": SETTINGS.jwt_issuer, "aud": SETTINGS.jwt_audience,
              "iat": now, "exp": now + 900, "jti": uuid.uuid4().hex, "use": "access",
              **changes}
    return {k: v for k, v in values.items() if v is not None}


def forge(payload: dict[str, Any], *, key: str = KEY, algorithm: str = "HS256",
          kid: str | None = SETTINGS.jwt_key_id) -> str:
    return jwt.encode(payload, key, algorithm=algorithm,
                      headers={"kid": kid} if kid is not None else None)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def assert_refused(client: httpx.AsyncClient, token: str, subject: Actor) -> None:
    """The token is a 401 ``invalid_token``, while a valid token for the same user works."""
    response = await client.get(ME, headers=bearer(token))
    assert_problem(response, 401, "invalid_token")
    assert response.headers["www-authenticate"] == "Bearer"
    control = await client.get(ME, headers=bearer(forge(claims(subject.id))))
    assert control.status_code == 200, control.text
    assert control.json()["id"] == subject.id


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


# JWT attacks -------------------------------------------------------------------------

async def test_a_token_forged_like_the_service_does_is_accepted(client, actors: Actors) -> None:
    """The baseline every attack below differs from in exactly one respect."""
    assert KEY == DEVELOPMENT_SIGNING_KEY
    token = forge(claims(actors.am_east.id))
    assert jwt.get_unverified_header(token)["kid"] == "k1"
    response = await client.get(ME, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["username"] == actors.am_east.username


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_alg_none_is_refused(client, actors: Actors, alg: str) -> None:
    header = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": "k1"}).encode())
    payload = b64(json.dumps(claims(actors.am_east.id)).encode())
    await assert_refused(client, f"{header}.{payload}.", actors.am_east)


async def test_token_signed_with_another_key_is_refused(client, actors: Actors) -> None:
    token = forge(claims(actors.am_east.id), key="not-" + KEY)
    await assert_refused(client, token, actors.am_east)


async def test_expired_token_is_refused(client, actors: Actors) -> None:
    now = int(time.time())
    token = forge(claims(actors.am_east.id, iat=now - 1000, exp=now - 100))
    await assert_refused(client, token, actors.am_east)


@pytest.mark.parametrize("audience", ["accord-admin", "ACCORD-API", "accord-api "])
async def test_wrong_audience_is_refused(client, actors: Actors, audience: str) -> None:
    await assert_refused(client, forge(claims(actors.am_east.id, aud=audience)), actors.am_east)


@pytest.mark.parametrize("issuer", ["evil", "Accord", "accord.example"])
async def test_wrong_issuer_is_refused(client, actors: Actors, issuer: str) -> None:
    await assert_refused(client, forge(claims(actors.am_east.id, iss=issuer)), actors.am_east)


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
async def test_token_missing_a_required_claim_is_refused(client, actors: Actors,
                                                          claim: str) -> None:
    payload = claims(actors.am_east.id)
    del payload[claim]
    await assert_refused(client, forge(payload), actors.am_east)


@pytest.mark.parametrize("kid", ["k2", "K1", None])
async def test_unknown_or_missing_kid_is_refused(client, actors: Actors,
                                                 kid: str | None) -> None:
    await assert_refused(client, forge(claims(actors.am_east.id), kid=kid), actors.am_east)


async def test_a_token_with_a_critical_extension_is_refused(client, actors: Actors) -> None:
    """RFC 7515 §4.1.11: ``crit`` names extensions the verifier must understand; we
    implement none, so whatever it names is unknown."""
    payload = claims(actors.am_east.id)
    for crit in (["exp"], ["urn:example:policy"], []):
        token = jwt.encode(payload, KEY, algorithm="HS256",
                           headers={"kid": "k1", "crit": crit, "urn:example:policy": 1})
        await assert_refused(client, token, actors.am_east)


NEW_KEY = "n" * 40


async def test_during_a_rotation_tokens_of_both_keys_are_accepted(
        client_with, actors: Actors) -> None:
    old_token = forge(claims(actors.am_east.id))  # kid k1, the key before the rotation
    async with client_with(signing_key=NEW_KEY, jwt_key_id="k2",
                           previous_signing_keys=f"k1:{KEY}") as rotated:
        login = await sign_in(rotated, actors.am_east.username)
        new_token = login.json()["access_token"]
        assert jwt.get_unverified_header(new_token)["kid"] == "k2"  # signed with the new key
        for token in (old_token, new_token):
            response = await rotated.get(ME, headers=bearer(token))
            assert response.status_code == 200, response.text
        forged = forge(claims(actors.am_east.id), key=NEW_KEY, kid="k1")  # kid and key
        assert_problem(await rotated.get(ME, headers=bearer(forged)), 401, "invalid_token")

    async with client_with(signing_key=NEW_KEY, jwt_key_id="k2") as after:  # k1 removed
        assert_problem(await after.get(ME, headers=bearer(old_token)), 401, "invalid_token")
        response = await after.get(ME, headers=bearer(new_token))
        assert response.status_code == 200, response.text


SECRET = "s3cr3t-never-shown"


@pytest.mark.parametrize("previous", [SECRET, f":{SECRET}", f"k0:a,k0:{SECRET}",
                                      f"k1:{SECRET}"])
def test_previous_keys_must_be_distinct_kid_key_pairs(previous: str) -> None:
    """The error names the setting, never the secrets it was given."""
    with pytest.raises(ValueError, match="ACCORD_PREVIOUS_SIGNING_KEYS") as raised:
        Settings(previous_signing_keys=previous)  # type: ignore[arg-type]
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize("previous", [f"k0:{DEVELOPMENT_SIGNING_KEY}", f"k0:{SECRET}"])
def test_production_refuses_weak_previous_keys(previous: str) -> None:
    with pytest.raises(ValueError, match="kid 'k0'") as raised:
        Settings(env="production", signing_key=NEW_KEY,  # type: ignore[arg-type]
                 previous_signing_keys=previous)
    assert previous.partition(":")[2] not in str(raised.value)
    rotated = settings_for("sqlite+aiosqlite://", env="production", signing_key=NEW_KEY,
                           previous_signing_keys="k0:" + "o" * 32)
    assert "o" * 32 not in repr(rotated) and rotated.previous_keys == {"k0": "o" * 32}


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
async def test_another_algorithm_with_the_right_key_is_refused(client, actors: Actors,
                                                               algorithm: str) -> None:
    token = forge(claims(actors.am_east.id), algorithm=algorithm)
    await assert_refused(client, token, actors.am_east)


async def test_tampered_payload_with_the_original_signature_is_refused(
        client, actors: Actors) -> None:
    header, _, signature = actors.am_east.token.split(".")
    original = await client.get(ME, headers=actors.am_east.headers)
    assert original.json()["id"] == actors.am_east.id
    payload = jwt.get_unverified_claims(actors.am_east.token) | {"sub": actors.admin.id}
    token = f"{header}.{b64(json.dumps(payload).encode())}.{signature}"
    await assert_refused(client, token, actors.am_east)


async def test_tampered_signature_is_refused(client, actors: Actors) -> None:
    header, payload, signature = actors.am_east.token.split(".")
    raw = bytearray(unb64(signature))
    raw[len(raw) // 2] ^= 0x01
    await assert_refused(client, f"{header}.{payload}.{b64(bytes(raw))}", actors.am_east)


async def test_refresh_token_as_bearer_is_refused(client, actors: Actors) -> None:
    await assert_refused(client, actors.am_east.refresh_token, actors.am_east)


@pytest.mark.parametrize("use", ["refresh", None])
async def test_signed_token_that_is_not_an_access_token_is_refused(
        client, actors: Actors, use: str | None) -> None:
    await assert_refused(client, forge(claims(actors.am_east.id, use=use)), actors.am_east)


@pytest.mark.parametrize("subject", ["not-a-uuid", "00000000-0000-4000-8000-000000000000"],
                         ids=["not-a-uuid", "unknown-user"])
async def test_signed_token_for_no_user_is_refused(client, actors: Actors,
                                                   subject: str) -> None:
    await assert_refused(client, forge(claims(subject)), actors.am_east)


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..", "e30.e30.e30",
                                     "A" * 4000])
async def test_garbage_bearer_is_refused(client, actors: Actors, garbage: str) -> None:
    await assert_refused(client, garbage, actors.am_east)


async def test_token_of_a_deactivated_user_is_refused(client, actors: Actors) -> None:
    user = await actor(client, actors.admin, actors.east, ["account_manager"])
    assert (await client.get(ME, headers=user.headers)).status_code == 200
    read = await client.get(f"/api/v1/users/{user.id}", headers=actors.admin.headers)
    deactivated = await client.post(f"/api/v1/users/{user.id}/deactivate", headers={
        **actors.admin.headers, "If-Match": read.headers["etag"]})
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["active"] is False

    response = await client.get(ME, headers=user.headers)
    assert_problem(response, 401, "invalid_token")
    assert_problem(await refresh(client, user.refresh_token), 401, "invalid_token")
    control = await client.get(ME, headers=actors.admin.headers)
    assert control.status_code == 200 and control.json()["id"] == actors.admin.id


# login -------------------------------------------------------------------------------

async def test_login_returns_a_bearer_pair_that_is_not_cached(client, actors: Actors) -> None:
    user = await create_user(client, actors.admin, actors.east, ["finance"])
    response = await sign_in(client, user["username"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token",
                         "refresh_expires_in"}
    assert body["token_type"] == "bearer"
    assert 3595 <= body["expires_in"] <= 3600  # the tests' setting (tests/conftest.py)
    assert 14 * 86400 - 5 <= body["refresh_expires_in"] <= 14 * 86400
    assert body["refresh_token"] and "." not in body["refresh_token"]  # opaque, not a JWT
    assert jwt.get_unverified_header(body["access_token"]) == {
        "alg": "HS256", "typ": "JWT", "kid": "k1"}
    token_claims = jwt.decode(body["access_token"], KEY, algorithms=["HS256"],
                              audience="accord-api", issuer="accord")
    assert token_claims["sub"] == user["id"] and token_claims["use"] == "access"
    assert token_claims["exp"] - token_claims["iat"] == 3600
    me = await client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user["id"]


async def test_json_sent_to_sign_in_is_told_to_send_a_form(client, actors: Actors) -> None:
    user = await create_user(client, actors.admin, actors.east, ["finance"])
    for lang, words in (("en", "application/x-www-form-urlencoded"), ("zh-CN", "表单")):
        response = await client.post("/api/v1/auth/token", headers={"Accept-Language": lang},
                                     json={"username": user["username"],
                                           "password": PASSWORD})
        body = assert_problem(response, 415, "form_required")
        assert words in body["detail"] and "application/json." not in body["detail"]


async def test_wrong_password_and_unknown_user_look_the_same(app, client,
                                                             actors: Actors) -> None:
    user = await create_user(client, actors.admin, actors.east, ["finance"])
    async with elsewhere(app) as c:
        wrong = await sign_in(c, user["username"], WRONG_PASSWORD)
        unknown = await sign_in(c, f"nobody-{uuid.uuid4().hex[:8]}", WRONG_PASSWORD)
    bodies = [assert_problem(r, 401, "invalid_credentials") for r in (wrong, unknown)]
    for body in bodies:
        del body["request_id"]
    assert bodies[0] == bodies[1]
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"] == "Bearer"
    assert (await sign_in(client, user["username"])).status_code == 200  # not locked out


@pytest.mark.parametrize("spelling", [str.upper, str.title, lambda name: f"  {name} "],
                         ids=["upper", "title", "padded"])
async def test_usernames_are_case_insensitive(client, actors: Actors, spelling) -> None:
    user = await create_user(client, actors.admin, actors.east, ["finance"])
    response = await sign_in(client, spelling(user["username"]))
    assert response.status_code == 200, response.text
    me = await client.get(ME, headers=bearer(response.json()["access_token"]))
    assert me.json()["id"] == user["id"]


# login throttling --------------------------------------------------------------------

async def test_an_address_is_locked_out_of_an_account_after_five_failures(
        app, client, clock, actors: Actors) -> None:
    user = await create_user(client, actors.admin, actors.east, ["finance"])
    username = user["username"]
    stranger = fresh_address()
    async with client_for(app, stranger) as c:
        for _ in range(5):
            assert_problem(await sign_in(c, username, WRONG_PASSWORD), 401,
                           "invalid_credentials")
        locked = await sign_in(c, username)  # the right password, from the same address
        zh = await c.post("/api/v1/auth/token", headers={"Accept-Language": "zh-CN"},
                          data={"username": username, "password": PASSWORD})
    body = assert_problem(locked, 429, "too_many_login_attempts")
    retry_after = locked.headers["retry-after"]
    assert retry_after.isdigit() and 0 < int(retry_after) <= 901
    assert f"{retry_after} seconds" in body["detail"]
    body = assert_problem(zh, 429, "too_many_login_attempts")
    assert body["detail"] == f"登录失败次数过多，请在 {zh.headers['retry-after']} 秒后重试。"

    async with elsewhere(app) as owner:  # the stranger's failures do not lock the owner out
        assert (await sign_in(owner, username)).status_code == 200

    clock.advance(seconds=901)
    try:
        async with client_for(app, stranger) as c:
            later = await sign_in(c, username)
    finally:
        clock.advance(seconds=-901)
    assert later.status_code == 200, later.text


async def test_failures_from_many_addresses_slow_strangers_but_not_a_known_address(
        app, client, clock, actors: Actors) -> None:
    """Ten failures spread over ten addresses (no pair reaches its limit): a new address
    waits a short, doubling delay; the address the owner signed in from before does not."""
    user = await create_user(client, actors.admin, actors.east, ["finance"])
    username = user["username"]
    home = fresh_address()
    async with client_for(app, home) as c:
        assert (await sign_in(c, username)).status_code == 200
    try:
        for _ in range(11):
            clock.advance(seconds=3)  # a patient botnet: each address waits out the delay
            async with elsewhere(app) as c:
                assert_problem(await sign_in(c, username, WRONG_PASSWORD), 401,
                               "invalid_credentials")
        async with elsewhere(app) as c:
            slowed = await sign_in(c, username)  # the right password from a new address
        assert_problem(slowed, 429, "too_many_login_attempts")
        assert 0 < int(slowed.headers["retry-after"]) <= 3
        async with client_for(app, home) as c:
            assert (await sign_in(c, username)).status_code == 200
        clock.advance(seconds=3)
        async with elsewhere(app) as c:
            assert (await sign_in(c, username)).status_code == 200
    finally:
        clock.advance(seconds=-36)
    entries = await audit_entries(client, actors.auditor, "user", user["id"])
    refused = [e for e in entries if e["action"] == "auth.login_throttled"]
    assert len(refused) == 1 and refused[0]["after"]["username"] == username
    assert refused[0]["request_id"] == slowed.headers["x-request-id"]
    metrics = (await client.get("/metrics")).text
    assert 'accord_login_attempts_total{outcome="throttled"}' in metrics
    assert 'accord_login_attempts_total{outcome="invalid_credentials"}' in metrics


async def test_address_is_throttled_after_twenty_failures_across_accounts(
        app, client, actors: Actors) -> None:
    user = await create_user(client, actors.admin, actors.east, ["finance"])
    async with elsewhere(app) as noisy:
        for _ in range(20):
            failed = await sign_in(noisy, f"guess-{uuid.uuid4().hex[:8]}", WRONG_PASSWORD)
            assert_problem(failed, 401, "invalid_credentials")
        refused = await sign_in(noisy, user["username"])  # a fresh account, right password
        zh = await noisy.post("/api/v1/auth/token", headers={"Accept-Language": "zh-CN"},
                              data={"username": user["username"], "password": PASSWORD})
    assert_problem(refused, 429, "too_many_login_attempts")
    assert 0 < int(refused.headers["retry-after"]) <= 901
    assert assert_problem(zh, 429, "too_many_login_attempts")["detail"].startswith(
        "登录失败次数过多")
    async with elsewhere(app) as quiet:
        allowed = await sign_in(quiet, user["username"])
    assert allowed.status_code == 200, allowed.text


# refresh and logout ------------------------------------------------------------------

async def test_refresh_rotates_the_pair_and_spends_the_old_token(client, actors: Actors) -> None:
    user = await actor(client, actors.admin, actors.east, ["finance"])
    rotated = await refresh(client, user.refresh_token)
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store"
    pair = rotated.json()
    assert pair["token_type"] == "bearer" and 3595 <= pair["expires_in"] <= 3600
    assert pair["refresh_token"] != user.refresh_token
    assert pair["access_token"] != user.token
    me = await client.get(ME, headers=bearer(pair["access_token"]))
    assert me.json()["id"] == user.id
    assert_problem(await refresh(client, user.refresh_token), 401, "refresh_token_reused")


async def test_reusing_a_rotated_token_revokes_its_family_only(client, actors: Actors) -> None:
    user = await actor(client, actors.admin, actors.east, ["finance"])
    other_session = (await sign_in(client, user.username)).json()["refresh_token"]
    newest = (await refresh(client, user.refresh_token)).json()["refresh_token"]

    assert_problem(await refresh(client, user.refresh_token), 401, "refresh_token_reused")
    assert_problem(await refresh(client, newest), 401, "invalid_token")
    still = await refresh(client, other_session)
    assert still.status_code == 200, still.text
    actions = [e["action"] for e in await audit_entries(client, actors.auditor, "user", user.id)]
    assert "auth.refresh_reuse_detected" in actions


async def test_logout_revokes_the_family(client, actors: Actors) -> None:
    user = await actor(client, actors.admin, actors.east, ["finance"])
    newest = (await refresh(client, user.refresh_token)).json()["refresh_token"]
    response = await client.post("/api/v1/auth/logout", headers=user.headers,
                                 json={"refresh_token": newest})
    assert response.status_code == 204 and response.content == b""
    assert_problem(await refresh(client, newest), 401, "invalid_token")
    assert_problem(await refresh(client, user.refresh_token), 401, "refresh_token_reused")
    actions = [e["action"] for e in await audit_entries(client, actors.auditor, "user", user.id)]
    assert "auth.logout" in actions


async def test_logout_needs_authentication(client, actors: Actors) -> None:
    user = await actor(client, actors.admin, actors.east, ["finance"])
    response = await client.post("/api/v1/auth/logout", json={"refresh_token": user.refresh_token})
    assert_problem(response, 401, "not_authenticated")
    assert (await refresh(client, user.refresh_token)).status_code == 200  # still valid


async def test_logout_with_another_users_token_changes_nothing(client, actors: Actors) -> None:
    victim = await actor(client, actors.admin, actors.east, ["finance"])
    response = await client.post("/api/v1/auth/logout", headers=actors.am_east.headers,
                                 json={"refresh_token": victim.refresh_token})
    assert response.status_code == 204
    assert (await refresh(client, victim.refresh_token)).status_code == 200
    actions = [e["action"] for e in await audit_entries(client, actors.auditor, "user", victim.id)]
    assert "auth.logout" not in actions


# audit and logs ----------------------------------------------------------------------

async def test_login_and_failed_login_are_audited(app, client, actors: Actors) -> None:
    user = await create_user(client, actors.admin, actors.east, ["finance"])
    address = fresh_address()
    async with client_for(app, address) as c:
        failed = await sign_in(c, user["username"], WRONG_PASSWORD)
        ok = await sign_in(c, user["username"])
    entries = await audit_entries(client, actors.auditor, "user", user["id"])
    by_action = {e["action"]: e for e in entries}
    failure, login = by_action["auth.login_failed"], by_action["auth.login"]
    assert failure["request_id"] == failed.headers["x-request-id"]
    assert failure["actor_id"] is None and failure["after"] == {"username": user["username"]}
    assert login["request_id"] == ok.headers["x-request-id"]
    assert login["actor_id"] == user["id"] and login["actor_roles"] == ["finance"]
    assert failure["client_addr"] == login["client_addr"] == address
    assert failure["seq"] < login["seq"]


@contextmanager
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """Everything logged meanwhile at DEBUG: our structlog events (the configured level
    is lifted) and every stdlib record, SQLAlchemy's statements and parameters included."""
    config = structlog.get_config()
    saved = {k: config[k] for k in ("wrapper_class", "cache_logger_on_first_use")}
    proxies = [middleware.log, problems.log]

    def rebind() -> None:  # drop loggers cached under the old configuration
        for proxy in proxies:
            vars(proxy).pop("bind", None)

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
                        cache_logger_on_first_use=False)
    rebind()
    text: list[str] = []
    try:
        with caplog.at_level(logging.DEBUG), \
                caplog.at_level(logging.DEBUG, logger="sqlalchemy.engine"), \
                structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as events:
            yield text
            text.extend(str(event) for event in events)
            text.extend(record.getMessage() for record in caplog.records)
    finally:
        structlog.configure(**saved)
        rebind()


async def test_no_secret_reaches_the_audit_log_or_the_logs(app, client, actors: Actors,
                                                           caplog) -> None:
    head = await client.get("/api/v1/audit/entries", headers=actors.auditor.headers,
                            params={"sort": "-seq", "limit": 1})
    start = head.json()["data"][0]["seq"]
    with all_logs(caplog) as logged:
        user = await create_user(client, actors.admin, actors.east, ["finance"])
        async with elsewhere(app) as c:
            await sign_in(c, user["username"], WRONG_PASSWORD)
            first = (await sign_in(c, user["username"])).json()
        second = (await refresh(client, first["refresh_token"])).json()
        await client.get(ME, headers=bearer(second["access_token"]))
        await client.post("/api/v1/auth/logout", headers=bearer(second["access_token"]),
                          json={"refresh_token": second["refresh_token"]})
        await refresh(client, first["refresh_token"])  # reuse
        issued = await client.post("/api/v1/api-keys", headers=actors.admin.headers,
                                   json={"name": "日志检查", "scopes": ["users:read"]})
        api_key = issued.json()["key"]
        await client.get("/api/v1/users", headers={"X-API-Key": api_key})
        await client.get(ME, headers=bearer("garbage-" + PASSWORD))
    assert any("'event': 'request'" in line for line in logged)  # our access log
    assert any("SELECT" in line for line in logged)  # SQL and its parameters

    entries, cursor = [], None
    while True:
        params = {"sort": "-seq", "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/audit/entries", headers=actors.auditor.headers,
                                 params=params)).json()
        entries += [e for e in page["data"] if e["seq"] > start]
        cursor = page["next_cursor"]
        if not cursor or page["data"][-1]["seq"] <= start:
            break
    actions = {e["action"] for e in entries}
    assert {"user.created", "auth.login_failed", "auth.login", "auth.refresh", "auth.logout",
            "auth.refresh_reuse_detected", "api_key.issued"} <= actions, actions

    secrets_used = [PASSWORD, WRONG_PASSWORD, api_key, api_key.split("_", 2)[2]]
    for pair in (first, second):
        secrets_used += [pair["access_token"], pair["access_token"].rsplit(".", 1)[1],
                         pair["refresh_token"]]
    audit_text = json.dumps(entries, ensure_ascii=False)
    log_text = "\n".join(logged)
    for secret in secrets_used:
        assert secret not in audit_text
        assert secret not in log_text
    assert "$argon2" not in audit_text  # not even the password hash


def test_access_tokens_last_fifteen_minutes_unless_configured() -> None:
    """The tests run with an hour (tests/conftest.py); the product's default is this."""
    assert Settings.model_fields["access_token_minutes"].default == 15
