"""Argon2id password hashing through pwdlib."""

import asyncio

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher


class Argon2PasswordHasher:
    """Argon2id at pwdlib's parameters (t=3, m=64 MiB, p=4) unless told otherwise; only
    the tests ask for less, to sign hundreds of people in quickly. A hash names its own
    parameters, so any hasher verifies any stored hash."""

    def __init__(self, *, time_cost: int = 3, memory_cost_kib: int = 65536,
                 parallelism: int = 4) -> None:
        self._hash = PasswordHash((Argon2Hasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism),))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hash.hash, password)

    async def verify(self, password: str, password_hash: str) -> bool:
        """In a worker thread: a sign-in must not stall every other request."""
        return await asyncio.to_thread(self._hash.verify, password, password_hash)


class HashedOnce:
    """Wraps a hasher so that each distinct password is hashed once. For ``accord demo``
    only, where every demo user has the same password: one Argon2id hash (about 0.2 s of
    CPU each) then serves them all. Real users each get a hash with their own salt."""

    def __init__(self, hasher: Argon2PasswordHasher) -> None:
        self._hasher = hasher
        self._hashes: dict[str, str] = {}

    async def hash(self, password: str) -> str:
        if password not in self._hashes:
            self._hashes[password] = await self._hasher.hash(password)
        return self._hashes[password]

    async def verify(self, password: str, password_hash: str) -> bool:
        return await self._hasher.verify(password, password_hash)
