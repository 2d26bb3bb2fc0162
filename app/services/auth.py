"""Signing in and out: password login with throttling, refresh-token rotation, API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from app.domain.access.credentials import RefreshToken
from app.domain.access.principal import Principal, PrincipalKind
from app.domain.access.users import User
from app.domain.common.errors import (
    InvalidCredentials,
    InvalidToken,
    RefreshTokenReused,
    TooManyAttempts,
)
from app.domain.common.ids import new_id
from app.services.ports import Clock, RequestContext
from app.services.ports.access import PasswordHasher, TokenCodec
from app.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.principal_cache import PrincipalCache

API_KEY_PREFIX = "acc_"
# How long a worker may serve a user's principal without reading it again; see
# app/services/principal_cache.py for how changes reach it (0 turns the cache off).
PRINCIPAL_CACHE_S = 5.0
# An Argon2id hash of a random secret nobody knows (same parameters as real hashes).
DECOY_HASH = ("$argon2id$v=19$m=65536,t=3,p=4$9hGw5AbCN05y6GuhW9lT9w$"
              "4lm1nsNV6O/VoapDUNu/XRYBnFqUVzq7/O9l2hSOwvU")


def digest(secret: str) -> str:
    """Opaque secrets (refresh tokens, API keys) are high-entropy, so SHA-256 suffices."""
    return hashlib.sha256(secret.encode()).hexdigest()


def user_principal(user: User) -> Principal:
    return Principal(id=user.id, kind=PrincipalKind.USER, name=user.username,
                     department_id=user.department_id, roles=user.roles)


@dataclass(frozen=True)
class LoginPolicy:
    """Who waits after failed sign-ins, so guessing is slow and no stranger can lock a
    user out: failures of one account from one address lock that pair for the window;
    failures from one address across accounts lock that address; failures of one account
    from many addresses make *unknown* addresses wait a delay that doubles with each
    further failure (up to ``max_delay``), while addresses the user signed in from before
    keep working."""

    window: timedelta
    max_failures_per_pair: int
    max_failures_per_address: int
    account_slowdown_after: int
    max_delay: timedelta

    def account_delay(self, failures: int) -> timedelta:
        """The wait an unknown address owes after the account's newest failure."""
        if failures < self.account_slowdown_after:
            return timedelta(0)
        doubled = min(failures - self.account_slowdown_after, 30)
        return min(self.max_delay, timedelta(seconds=2 ** doubled))


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


class AuthService:
    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, tokens: TokenCodec,
                 clock: Clock, login_policy: LoginPolicy, refresh_lifetime: timedelta,
                 principal_cache_s: float = PRINCIPAL_CACHE_S) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._policy = login_policy
        self._refresh_lifetime = refresh_lifetime
        # Verified against when the user does not exist, so timing does not reveal it.
        self._decoy_hash = DECOY_HASH
        self._principals = PrincipalCache(principal_cache_s)

    async def login(self, ctx: RequestContext, username: str, password: str) -> TokenPair:
        now = self._clock.now()
        username = username.strip().lower()
        keys = [f"pair:{username}|{ctx.client_addr}", f"account:{username}"]
        if ctx.client_addr:
            keys.append(f"address:{ctx.client_addr}")
        async with self._uow(ctx) as uow:
            user = await uow.users.get_by_username(username)
            known = bool(user and ctx.client_addr
                         and await uow.login_throttle.is_known_address(user.id, ctx.client_addr))
            wait = await self._wait(uow, keys, known, now)
            if wait is not None:
                uow.record_change("auth.login_throttled", "user", user.id if user else None,
                                  after={"username": username, "retry_after_s": wait})
                await uow.commit()
                raise TooManyAttempts(retry_after_s=wait)
            ok = await self._hasher.verify(password,
                                           user.password_hash if user else self._decoy_hash)
            if not (ok and user is not None and user.active):
                for key in keys:
                    await uow.login_throttle.record_failure(key, now)
                uow.record_change("auth.login_failed", "user", user.id if user else None,
                                  after={"username": username})
                await uow.commit()
                raise InvalidCredentials()
            await uow.login_throttle.clear(keys[0])
            if ctx.client_addr:
                await uow.login_throttle.remember_address(user.id, ctx.client_addr, now)
            pair = await self._issue(uow, user, new_id(), now)
            uow.record_change("auth.login", "user", user.id, actor=user_principal(user))
            await uow.commit()
            return pair

    async def _wait(self, uow: UnitOfWork, keys: list[str], known: bool,
                    now: datetime) -> int | None:
        """Seconds this attempt must wait (None: it may go ahead), for keys ``[pair,
        account, address?]``; a known address is not slowed by the account's failures."""
        policy = self._policy
        since = now - policy.window
        pair, account, *address = [await uow.login_throttle.failures_since(key, since)
                                   for key in keys]
        waits = [failures.oldest + policy.window - now
                 for failures, limit in ((pair, policy.max_failures_per_pair),
                                         *((a, policy.max_failures_per_address) for a in address))
                 if failures.count >= limit and failures.oldest is not None]
        if not known and account.newest is not None:
            waits.append(account.newest + policy.account_delay(account.count) - now)
        longest = max(waits, default=timedelta(0))
        if longest <= timedelta(0):
            return None
        return max(1, int(longest.total_seconds()) + 1)

    async def _issue(self, uow: UnitOfWork, user: User, family_id: UUID,
                     now: datetime) -> TokenPair:
        access, access_expires = self._tokens.issue_access(user.id, now)
        refresh = secrets.token_urlsafe(32)
        expires = now + self._refresh_lifetime
        await uow.refresh_tokens.add(RefreshToken(
            id=new_id(), user_id=user.id, family_id=family_id, token_hash=digest(refresh),
            created_at=now, expires_at=expires))
        return TokenPair(access, access_expires, refresh, expires)

    async def refresh(self, ctx: RequestContext, refresh_token: str) -> TokenPair:
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            token = await uow.refresh_tokens.get_by_hash(digest(refresh_token))
            if token is None:
                raise InvalidToken(reason="unknown_refresh_token")
            try:
                token.check_usable(now)
                if not await uow.refresh_tokens.mark_rotated(token.id, now):
                    raise RefreshTokenReused()  # a concurrent refresh rotated it first
            except RefreshTokenReused:
                await uow.refresh_tokens.revoke_family(token.family_id, now)
                uow.record_change("auth.refresh_reuse_detected", "user", token.user_id,
                                  after={"family_id": token.family_id})
                await uow.commit()
                raise
            user = await uow.users.get(token.user_id)
            if user is None or not user.active:
                raise InvalidToken(reason="inactive")
            pair = await self._issue(uow, user, token.family_id, now)
            uow.record_change("auth.refresh", "user", user.id, actor=user_principal(user))
            await uow.commit()
            return pair

    async def logout(self, ctx: RequestContext, refresh_token: str) -> None:
        """Revoke the sign-in the refresh token belongs to; a token that is unknown or not
        the caller's is ignored, so the answer reveals nothing about it."""
        assert ctx.principal is not None
        now = self._clock.now()
        async with self._uow(ctx) as uow:
            token = await uow.refresh_tokens.get_by_hash(digest(refresh_token))
            if token is None or token.user_id != ctx.principal.id:
                return
            await uow.refresh_tokens.revoke_family(token.family_id, now)
            uow.record_change("auth.logout", "user", token.user_id)
            await uow.commit()

    async def principal_for_access_token(self, token: str) -> Principal:
        cached = self._principals.get(token)
        if cached is not None:
            return cached
        claims = self._tokens.read_access(token)
        async with self._uow(RequestContext(None), write=False) as uow:
            user = await uow.users.get(claims.subject)
        if user is None or not user.active:
            raise InvalidToken(reason="inactive")
        principal = user_principal(user)
        self._principals.put(token, int(claims.expires_at.timestamp()), principal)
        return principal

    async def principal_for_api_key(self, raw_key: str) -> Principal:
        parts = raw_key.split("_", 2)  # the secret part is urlsafe base64: it may hold "_"
        if len(parts) != 3 or f"{parts[0]}_" != API_KEY_PREFIX:
            raise InvalidToken(reason="api_key_format")
        async with self._uow(RequestContext(None), write=False) as uow:
            key = await uow.api_keys.get_by_prefix(parts[1])
        if key is None or not hmac.compare_digest(key.secret_hash, digest(raw_key)):
            raise InvalidToken(reason="api_key")
        if not key.active:
            raise InvalidToken(reason="api_key_revoked")
        return Principal(id=key.id, kind=PrincipalKind.SERVICE, name=key.name,
                         department_id=key.department_id, scopes=key.scopes,
                         rate_limit=key.rate_limit)
