"""The audit hash chain (api-conventions, Audit): any honest log verifies intact, and any
edit a person with database access could make — changing a field of an entry, deleting an
entry, swapping two — is reported. Pure: no database."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.domain.audit.chain import (
    GENESIS_HASH,
    AuditRecord,
    ChainVerifier,
    Verification,
    entry_body,
    entry_hash,
    link_hash,
)
from app.domain.audit.checkpoint import Checkpoint, InvalidCheckpoint, imported, sign

TEXT = st.text(max_size=20)
OPTIONAL_TEXT = st.none() | TEXT
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6)
SNAPSHOT = st.none() | st.dictionaries(TEXT, JSON_VALUE, max_size=4)
ROLES = st.lists(st.sampled_from(["admin", "auditor", "account_manager", "finance"]),
                 unique=True, max_size=3)
MOMENT = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1),
                      timezones=st.just(UTC))

# Each hashed field and values it may be changed to.
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "occurred_at": MOMENT, "actor_id": OPTIONAL_TEXT, "actor_roles": ROLES, "action": TEXT,
    "entity_type": TEXT, "entity_id": OPTIONAL_TEXT, "before": SNAPSHOT, "after": SNAPSHOT,
    "request_id": OPTIONAL_TEXT, "client_addr": OPTIONAL_TEXT,
}
CONTENT = st.fixed_dictionaries(FIELDS)


def _seal(prev_hash: str, seq: int, content: dict[str, Any]) -> AuditRecord:
    digest = entry_hash(prev_hash, seq=seq, **content)
    return AuditRecord(seq=seq, prev_hash=prev_hash, hash=digest, **content)


def build_chain(contents: list[dict[str, Any]]) -> list[AuditRecord]:
    """What the service appends: sequence from 1, each entry linked to the previous hash."""
    records: list[AuditRecord] = []
    for seq, content in enumerate(contents, start=1):
        records.append(_seal(records[-1].hash if records else GENESIS_HASH, seq, content))
    return records


def verify(records: list[AuditRecord], head: AuditRecord | None) -> Verification:
    """Verify as the service does: entries in stored order, then the recorded head."""
    verifier = ChainVerifier()
    verifier.feed(records)
    return verifier.finish(head.seq if head else 0, head.hash if head else GENESIS_HASH)


# Timing on a shared two-core machine says nothing about correctness.
relaxed = settings(deadline=None)
chains = st.lists(CONTENT, min_size=1, max_size=8).map(build_chain)


@relaxed
@given(st.lists(CONTENT, max_size=8))
def test_an_honest_log_verifies_intact(contents: list[dict[str, Any]]) -> None:
    records = build_chain(contents)
    result = verify(records, records[-1] if records else None)
    assert result.intact, result.breaks
    assert result.entries_checked == len(records)
    assert result.last_seq == len(records)


@relaxed
@given(chains, st.data())
def test_changing_any_field_of_any_entry_is_detected(records: list[AuditRecord],
                                                     data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(records) - 1), label="entry")
    name = data.draw(st.sampled_from(sorted(FIELDS)), label="field")
    original = records[index]
    value = data.draw(FIELDS[name], label="new value")
    if name == "actor_roles":  # the hash covers the set of roles, not their order
        assume(sorted(value) != sorted(original.actor_roles))
    else:
        assume(value != getattr(original, name))
    tampered = records.copy()
    tampered[index] = dataclasses.replace(original, **{name: value})
    result = verify(tampered, records[-1])
    assert not result.intact
    assert (original.seq, "altered") in {(b.seq, b.problem) for b in result.breaks}


@relaxed
@given(chains, st.data())
def test_rehashing_a_changed_entry_still_breaks_the_chain(records: list[AuditRecord],
                                                          data: st.DataObject) -> None:
    """Whoever also recomputes the changed entry's hash breaks the link to the next entry,
    or, for the newest entry, the recorded head."""
    index = data.draw(st.integers(0, len(records) - 1), label="entry")
    action = data.draw(TEXT, label="new action")
    original = records[index]
    assume(action != original.action)
    content = {name: getattr(original, name) for name in FIELDS} | {"action": action}
    tampered = records.copy()
    tampered[index] = _seal(original.prev_hash, original.seq, content)
    assert not verify(tampered, records[-1]).intact


@relaxed
@given(chains, st.data())
def test_changing_a_stored_hash_or_sequence_is_detected(records: list[AuditRecord],
                                                        data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(records) - 1), label="entry")
    original = records[index]
    change = data.draw(st.sampled_from(["hash", "prev_hash", "seq"]), label="field")
    if change == "seq":
        value: Any = data.draw(st.integers(0, 20).filter(lambda s: s != original.seq))
    else:
        value = data.draw(st.text("0123456789abcdef", min_size=64, max_size=64).filter(
            lambda h: h != getattr(original, change)))
    tampered = records.copy()
    tampered[index] = dataclasses.replace(original, **{change: value})
    assert not verify(tampered, records[-1]).intact


@relaxed
@given(chains, st.data())
def test_deleting_any_entry_is_detected(records: list[AuditRecord],
                                        data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(records) - 1), label="deleted entry")
    remaining = records[:index] + records[index + 1:]
    result = verify(remaining, records[-1])
    assert not result.intact
    expected = "head_mismatch" if index == len(records) - 1 else "missing_before"
    assert expected in {b.problem for b in result.breaks}


@relaxed
@given(st.lists(CONTENT, min_size=2, max_size=8).map(build_chain), st.data())
def test_swapping_two_entries_is_detected(records: list[AuditRecord],
                                          data: st.DataObject) -> None:
    first = data.draw(st.integers(0, len(records) - 2), label="first")
    second = data.draw(st.integers(first + 1, len(records) - 1), label="second")
    swapped = records.copy()
    swapped[first], swapped[second] = swapped[second], swapped[first]
    result = verify(swapped, records[-1])
    assert not result.intact
    assert records[second].seq in {b.seq for b in result.breaks}



@given(CONTENT, st.integers(min_value=1, max_value=10**12), st.text(min_size=64, max_size=64))
def test_the_hash_of_body_and_seq_is_the_hash_of_the_whole_entry(
        content: dict[str, Any], seq: int, prev_hash: str) -> None:
    """Writers hash the body before they hold the chain's head and add the seq after; the
    result must be, byte for byte, sha256 over the previous hash and the canonical JSON of
    the whole entry, so logs written either way verify alike."""
    whole = {**content, "seq": seq,
             "occurred_at": content["occurred_at"].isoformat(timespec="microseconds"),
             "actor_roles": sorted(content["actor_roles"])}
    canonical = json.dumps(whole, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                           default=str)
    expected = hashlib.sha256(f"{prev_hash}|{canonical}".encode()).hexdigest()
    assert link_hash(prev_hash, seq, entry_body(**content)) == expected
    assert entry_hash(prev_hash, seq=seq, **content) == expected


# signed checkpoints ----------------------------------------------------------------------

KEY = b"k" * 32
SIGNED_AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _anchored(records: list[AuditRecord], head: AuditRecord,
              checkpoints: list[Checkpoint], key: bytes | None = KEY) -> Verification:
    verifier = ChainVerifier(checkpoints, key)
    verifier.feed(records)
    return verifier.finish(head.seq, head.hash)


@relaxed
@given(st.lists(CONTENT, min_size=2, max_size=8), st.data())
def test_a_rewritten_and_rehashed_chain_is_caught_by_an_earlier_checkpoint(
        contents: list[dict[str, Any]], data: st.DataObject) -> None:
    """Rewriting entry k and recomputing every later hash and the head fools the chain
    alone, not a checkpoint signed at or after k before the rewrite."""
    honest = build_chain(contents)
    at = data.draw(st.integers(1, len(honest)), label="checkpoint seq")
    k = data.draw(st.integers(1, at), label="rewritten seq")
    checkpoint = sign(at, honest[at - 1].hash, SIGNED_AT, KEY)
    action = data.draw(TEXT, label="new action")
    assume(action != contents[k - 1]["action"])
    forged = build_chain([c | {"action": action} if i == k - 1 else c
                          for i, c in enumerate(contents)])

    assert verify(forged, forged[-1]).intact  # the chain alone is fooled
    result = _anchored(forged, forged[-1], [checkpoint])
    assert [(b.seq, b.problem) for b in result.breaks] == [(at, "checkpoint_mismatch")]
    assert (result.checkpoints_checked, result.anchored_seq) == (1, None)
    honest_result = _anchored(honest, honest[-1], [checkpoint])
    assert honest_result.intact and honest_result.anchored_seq == at


@relaxed
@given(chains)
def test_truncating_below_a_checkpoint_and_a_forged_checkpoint_are_caught(
        records: list[AuditRecord]) -> None:
    newest = records[-1]
    checkpoint = sign(newest.seq, newest.hash, SIGNED_AT, KEY)
    if len(records) > 1:  # entries and head both cut back: only the checkpoint knows
        cut = _anchored(records[:-1], records[-2], [checkpoint])
        assert [(b.seq, b.problem) for b in cut.breaks] == [(newest.seq, "checkpoint_mismatch")]
    forged = sign(newest.seq, newest.hash, SIGNED_AT, b"not the key" * 3)
    result = _anchored(records, newest, [forged])
    assert [(b.seq, b.problem) for b in result.breaks] == [(newest.seq, "checkpoint_forged")]
    assert _anchored(records, newest, [forged], key=None).intact  # no key: none checked


def test_a_checkpoint_survives_its_export_and_refuses_another_key_or_an_edit() -> None:
    checkpoint = sign(7, "a" * 64, SIGNED_AT, KEY)
    exported = json.loads(json.dumps(checkpoint.exported()))
    assert exported["entries"] == exported["seq"] == 7
    assert exported["algorithm"] == "HMAC-SHA256"
    assert imported(exported, KEY) == checkpoint
    for bad in ({**exported, "seq": 8}, {**exported, "hash": "b" * 64},
                {**exported, "at": "2026-12-07T12:00:01+00:00"}):
        with pytest.raises(InvalidCheckpoint):
            imported(bad, KEY)
    with pytest.raises(InvalidCheckpoint):
        imported(exported, b"another key" * 3)
    for malformed in ({}, {**exported, "format": "other"}, {**exported, "seq": "x"},
                      {**exported, "at": "2026-12-07T12:00:00"}):
        with pytest.raises(InvalidCheckpoint):
            imported(malformed, KEY)
