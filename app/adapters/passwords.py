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
