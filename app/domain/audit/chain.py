"""Hash chain over audit entries: each entry's hash covers its content and the previous
hash, so altering or removing any entry breaks every link after it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.audit.checkpoint import Checkpoint

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    occurred_at: datetime
    actor_id: str | None
    actor_roles: list[str]
    action: str
    entity_type: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    client_addr: str | None
    prev_hash: str
    hash: str


def entry_body(*, occurred_at: datetime, actor_id: str | None, actor_roles: list[str],
               action: str, entity_type: str, entity_id: str | None,
               before: dict[str, Any] | None, after: dict[str, Any] | None,
               request_id: str | None, client_addr: str | None) -> str:
    """The canonical JSON of an entry without its ``seq``. It is the costly part of the
    hash and needs nothing from the chain, so a writer computes it before taking the
    chain's head."""
    content = {
        "occurred_at": occurred_at.isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor_roles": sorted(actor_roles),
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "before": before,
        "after": after,
        "request_id": request_id,
        "client_addr": client_addr,
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def link_hash(prev_hash: str, seq: int, body: str) -> str:
    """The hash of the entry ``seq`` whose ``entry_body`` is ``body``: sha256 over the
    previous hash and the canonical JSON of the whole entry. "seq" sorts after every
    other key, so that JSON is the body with the seq appended."""
    canonical = f'{body[:-1]},"seq":{int(seq)}}}'
    return hashlib.sha256(f"{prev_hash}|{canonical}".encode()).hexdigest()


def entry_hash(prev_hash: str, *, seq: int, occurred_at: datetime, actor_id: str | None,
               actor_roles: list[str], action: str, entity_type: str, entity_id: str | None,
               before: dict[str, Any] | None, after: dict[str, Any] | None,
               request_id: str | None, client_addr: str | None) -> str:
    return link_hash(prev_hash, seq, entry_body(
        occurred_at=occurred_at, actor_id=actor_id, actor_roles=actor_roles, action=action,
        entity_type=entity_type, entity_id=entity_id, before=before, after=after,
        request_id=request_id, client_addr=client_addr))


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    # "altered" | "missing_before" | "head_mismatch" | "checkpoint_mismatch" (the entry at
    # a signed checkpoint's seq is not the one signed, or is gone) | "checkpoint_forged"
    # (a stored checkpoint the key did not sign)
    problem: str


@dataclass(frozen=True)
class Verification:
    entries_checked: int
    last_seq: int
    breaks: list[ChainBreak]
    checkpoints_checked: int = 0
    # the newest signed checkpoint the chain matches: entries up to it are anchored
    anchored_seq: int | None = None

    @property
    def intact(self) -> bool:
        return not self.breaks


class ChainVerifier:
    """Feeds entries in sequence order; collects every break it sees. With the checkpoint
    key, every checkpoint given is checked too: its signature, then that the chain still
    holds the hash it signed at its seq (a rewritten, re-hashed chain does not)."""

    def __init__(self, checkpoints: Iterable[Checkpoint] = (),
                 key: bytes | None = None) -> None:
        self.prev_hash = GENESIS_HASH
        self.prev_seq = 0
        self.count = 0
        self.breaks: list[ChainBreak] = []
        self.anchors: dict[int, Checkpoint] = {}
        self.anchored: int | None = None
        for checkpoint in checkpoints if key is not None else ():
            if not checkpoint.signed_with(key):
                self.breaks.append(ChainBreak(checkpoint.seq, "checkpoint_forged"))
            elif self.anchors.setdefault(checkpoint.seq, checkpoint).hash != checkpoint.hash:
                self.breaks.append(ChainBreak(checkpoint.seq, "checkpoint_mismatch"))
        self.checked = len(self.anchors)

    def feed(self, records: Iterable[AuditRecord]) -> None:
        for r in records:
            if r.seq != self.prev_seq + 1 or r.prev_hash != self.prev_hash:
                self.breaks.append(ChainBreak(r.seq, "missing_before"))
            expected = entry_hash(
                r.prev_hash, seq=r.seq, occurred_at=r.occurred_at, actor_id=r.actor_id,
                actor_roles=r.actor_roles, action=r.action, entity_type=r.entity_type,
                entity_id=r.entity_id, before=r.before, after=r.after,
                request_id=r.request_id, client_addr=r.client_addr,
            )
            if expected != r.hash:
                self.breaks.append(ChainBreak(r.seq, "altered"))
            anchor = self.anchors.pop(r.seq, None)
            if anchor is not None:
                if anchor.hash == r.hash:
                    self.anchored = r.seq
                else:
                    self.breaks.append(ChainBreak(r.seq, "checkpoint_mismatch"))
            self.prev_hash, self.prev_seq = r.hash, r.seq
            self.count += 1

    def finish(self, head_seq: int, head_hash: str) -> Verification:
        """Compare with the recorded head, which catches removal of the newest entries."""
        if head_seq != self.prev_seq or head_hash != self.prev_hash:
            self.breaks.append(ChainBreak(head_seq, "head_mismatch"))
        # checkpoints beyond the last entry: the entries they signed are gone
        self.breaks.extend(ChainBreak(seq, "checkpoint_mismatch") for seq in sorted(self.anchors))
        self.anchors = {}
        return Verification(self.count, self.prev_seq, self.breaks, self.checked,
                            self.anchored)
