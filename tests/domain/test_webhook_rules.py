"""Webhook rules: which events an endpoint receives, the retry schedule, the delivery's
moves, which targets are safe, and the Standard Webhooks signature (checked against the
``standardwebhooks`` package)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from app.domain.webhooks import deliveries as rules
from app.domain.webhooks.deliveries import AttemptOutcome, DeliveryState, Move
from app.domain.webhooks.signing import secret_from, signature_header
from app.domain.webhooks.subscriptions import matches, valid_pattern
from app.domain.webhooks.targets import address_allowed, url_problem

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
segment = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)


@given(st.lists(segment, min_size=2, max_size=4), st.integers(1, 3))
def test_a_prefix_matches_exactly_the_types_below_it(parts: list[str], cut: int) -> None:
    event_type = ".".join(parts)
    prefix = ".".join(parts[:min(cut, len(parts) - 1)])
    assert matches(f"{prefix}.*", event_type)
    assert matches(event_type, event_type) and matches("*", event_type)
    assert not matches(f"{prefix}x.*", event_type)  # "ab.*" is not "a.*"
    assert not matches(f"{event_type}.*", event_type)  # a prefix needs something below it
    assert valid_pattern(f"{prefix}.*") and valid_pattern(event_type)


@pytest.mark.parametrize("pattern", ["", "change_request", "change_request.", "*.approved",
                                     "change_request.**", "Change_Request.approved", "a..b"])
def test_malformed_patterns_are_refused(pattern: str) -> None:
    assert not valid_pattern(pattern)


@given(st.integers(1, 30), st.floats(0, 1, exclude_max=True))
@example(1, 0.0)
@example(1, 0.9999)
def test_each_pause_is_the_exponential_step_within_the_jitter(attempt: int,
                                                              jitter: float) -> None:
    base = rules.MAX_DELAY if attempt > 12 else min(
        rules.FIRST_DELAY * rules.GROWTH ** (attempt - 1), rules.MAX_DELAY)
    pause = rules.delay(attempt, jitter)
    assert base * (1 - rules.JITTER) <= pause <= base * (1 + rules.JITTER)


@given(st.lists(st.floats(0, 1, exclude_max=True), min_size=40, max_size=40))
def test_a_failing_delivery_is_retried_over_about_a_day_then_given_up(
        jitters: list[float]) -> None:
    now, attempt, state = T0, 0, DeliveryState.PENDING
    while True:
        attempt += 1
        decision = rules.after_attempt(state=state, attempt=attempt, first_attempt_at=T0,
                                       now=now, outcome=AttemptOutcome.FAILED,
                                       endpoint_failing_since=T0, jitter=jitters[attempt])
        state = decision.state
        if decision.retry_at is None:
            break
        assert decision.retry_at > now
        now = decision.retry_at
    assert state is DeliveryState.FAILED and decision.move is Move.GIVE_UP
    assert timedelta(hours=14) <= now - T0 <= rules.RETRY_WINDOW
    assert 8 <= attempt <= 14
    assert decision.disable_endpoint is None  # failing for less than a day


def test_success_delivers_410_gives_up_and_a_day_of_failing_disables() -> None:
    ok = rules.after_attempt(state=DeliveryState.PENDING, attempt=3, first_attempt_at=T0,
                             now=T0, outcome=rules.outcome_of(204), endpoint_failing_since=T0,
                             jitter=0.5)
    assert (ok.state, ok.retry_at, ok.disable_endpoint) == (DeliveryState.DELIVERED, None, None)
    gone = rules.after_attempt(state=DeliveryState.PENDING, attempt=1, first_attempt_at=T0,
                               now=T0, outcome=rules.outcome_of(410),
                               endpoint_failing_since=None, jitter=0.5)
    assert (gone.state, gone.disable_endpoint) == (DeliveryState.FAILED, "gone")
    late = T0 + rules.RETRY_WINDOW
    failing = rules.after_attempt(state=DeliveryState.PENDING, attempt=1, first_attempt_at=late,
                                  now=late, outcome=AttemptOutcome.FAILED,
                                  endpoint_failing_since=T0, jitter=0.5)
    assert (failing.state, failing.disable_endpoint) == (DeliveryState.FAILED, "failing")
    assert rules.outcome_of(302) is AttemptOutcome.FAILED  # redirects are not followed
    assert rules.outcome_of(None) is AttemptOutcome.FAILED


def test_the_moves_table() -> None:
    for state in DeliveryState:
        assert rules.apply(state, Move.REDELIVER) is DeliveryState.PENDING
    for final in (DeliveryState.DELIVERED, DeliveryState.FAILED):
        for move in (Move.SUCCEED, Move.RETRY, Move.GIVE_UP):
            with pytest.raises(ValueError, match="cannot"):
                rules.apply(final, move)


@given(st.ip_addresses())
def test_production_allows_only_global_addresses(ip) -> None:  # type: ignore[no-untyped-def]
    allowed = address_allowed(str(ip), production=True)
    mapped = getattr(ip, "ipv4_mapped", None)
    judged = mapped or ip
    assert allowed == (judged.is_global and not judged.is_multicast)
    assert address_allowed(str(ip), production=False)


@pytest.mark.parametrize(("url", "production", "reason"), [
    ("https://hooks.example.com/in", True, None),
    ("http://hooks.example.com/in", True, "webhook_url_not_https"),
    ("http://127.0.0.1:9000/in", False, None),  # development: local receivers
    ("https://127.0.0.1/in", True, "webhook_url_private_address"),
    ("https://[fe80::1]/in", True, "webhook_url_private_address"),
    ("https://100.64.0.1/in", True, "webhook_url_private_address"),  # carrier-grade NAT
    ("https://a:b@hooks.example.com/", False, "webhook_url_credentials"),
    ("https://hooks.example.com:99999/", True, "webhook_url_invalid"),
    ("https://hooks.example.com/#x", True, "webhook_url_invalid"),
    ("hooks.example.com/in", False, "webhook_url_invalid"),
])
def test_url_policy(url: str, production: bool, reason: str | None) -> None:
    assert url_problem(url, production=production) == reason


@given(st.binary(min_size=24, max_size=64), st.binary(max_size=2000),
       st.from_regex(r"msg_[0-9a-f]{32}", fullmatch=True))
def test_signatures_verify_with_the_standardwebhooks_package(key: bytes, body: bytes,
                                                              msg_id: str) -> None:
    secret = secret_from(key)
    timestamp = int(datetime.now(UTC).timestamp())
    header = signature_header([secret_from(b"other" * 6), secret], msg_id, timestamp, body)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
               "webhook-signature": header}
    Webhook(secret).verify(body, headers, json_parse=False)
    assert header.split(" ")[1] == Webhook(secret).sign(
        msg_id, datetime.fromtimestamp(timestamp, tz=UTC), body)
