"""Signed checkpoints: the chain's head (seq and hash) at a moment, signed with HMAC-SHA256
under a key the database never holds.

Whoever can write to the database can rewrite an entry and recompute every later hash and
the head, and the chain alone then verifies. They cannot sign: a checkpoint taken before
the rewrite names a hash the rewritten chain no longer has at that seq."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.common.errors import DomainError, ErrorKind

FORMAT = "accord-audit-checkpoint/1"
ALGORITHM = "HMAC-SHA256"


class InvalidCheckpoint(DomainError):
    """Not a checkpoint, or not signed with the configured key."""

    code = "invalid_checkpoint"
    kind = ErrorKind.INVALID


@dataclass(frozen=True)
class Checkpoint:
    """Entries 1..``seq`` (seqs have no gaps, so ``seq`` is also their count) ending in
    ``hash``, as they were ``at``."""

    seq: int
    hash: str
    at: datetime
    signature: str

    def signed_with(self, key: bytes) -> bool:
        expected = _signature(self.seq, self.hash, self.at, key)
        return hmac.compare_digest(expected, self.signature)

    def exported(self) -> dict[str, Any]:
        return {"format": FORMAT, "algorithm": ALGORITHM, "seq": self.seq,
                "entries": self.seq, "hash": self.hash,
                "at": self.at.isoformat(timespec="microseconds"),
                "signature": self.signature}


def _signature(seq: int, head_hash: str, at: datetime, key: bytes) -> str:
    payload = json.dumps({"format": FORMAT, "seq": int(seq), "hash": head_hash,
                          "at": at.isoformat(timespec="microseconds")},
                         sort_keys=True, separators=(",", ":"))
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def sign(seq: int, head_hash: str, at: datetime, key: bytes) -> Checkpoint:
    return Checkpoint(seq, head_hash, at, _signature(seq, head_hash, at, key))


def imported(data: Mapping[str, Any], key: bytes) -> Checkpoint:
    """A checkpoint read back from its export; refused unless ``key`` signed it."""
    try:
        if data.get("format") != FORMAT:
            raise ValueError("format")
        checkpoint = Checkpoint(int(data["seq"]), str(data["hash"]),
                                datetime.fromisoformat(str(data["at"])),
                                str(data["signature"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InvalidCheckpoint(reason="malformed") from None
    if checkpoint.at.tzinfo is None or not checkpoint.signed_with(key):
        raise InvalidCheckpoint(reason="signature")
    return checkpoint
