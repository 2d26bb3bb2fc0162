"""The public survey page (domain §6) through its token, on both engines: a token answers
once (a second submit is 409 and nothing more is stored), stops working when it expires or
is revoked (410), unknown and tampered tokens are 404, the page shows the survey and
nothing about the customer, answers are checked per question kind with a pointer to each
bad one, and attempts are rate limited per client address."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables import audit_log, outbox
from app.repositories.tables_feedback import survey_responses, survey_scores
from app.settings import Settings
from tests.change_request_support import customer_of
from tests.db import row_count, rows
from tests.support import Actors, TestClock, assert_problem, field_errors
from tests.survey_support import (
    ANSWERS,
    INVITATIONS,
    PUBLIC,
    QUESTIONS,
    address,
    invited,
    make_template,
    public_client,
    submit,
)

SCORED = 3  # the NPS, CSAT and CES questions of QUESTIONS


@pytest.fixture
async def issued(client: httpx.AsyncClient, actors: Actors) -> dict[str, Any]:
    """A fresh invitation of ``actors.am_east``'s to the standard template."""
    template = await make_template(client, actors.admin)
    customer = await customer_of(client, actors.am_east)
    return await invited(client, actors.am_east, template, customer)


def tampered(token: str) -> str:
    """The token with its middle character changed."""
    i = len(token) // 2
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]


async def test_the_page_shows_the_survey_and_nothing_about_the_customer(
        app: FastAPI, issued: dict[str, Any]) -> None:
    async with public_client(app) as public:
        response = await public.get(issued["link"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"name", "questions", "expires_at"}
    assert datetime.fromisoformat(body["expires_at"]) == datetime.fromisoformat(
        issued["expires_at"])
    assert [q["id"] for q in body["questions"]] == [q["id"] for q in QUESTIONS]
    assert {q["id"]: q["options"] for q in body["questions"]}["channel"] == ["电话", "邮件", "微信"]
    assert {q["id"]: q["required"] for q in body["questions"]}["comment"] is False
    for secret in ("id", "customer_id", "contact_id", "owner_id", "department_id",
                   "template_id"):
        assert issued[secret] not in response.text, secret


async def test_a_token_answers_once_and_stores_one_response(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors,
        issued: dict[str, Any]) -> None:
    async with public_client(app) as public:
        first = await submit(public, issued["token"], ANSWERS)
        assert first.status_code == 204, first.text
        assert first.content == b""
        again = await submit(public, issued["token"], {**ANSWERS, "nps": 0})
        assert_problem(again, 409, "survey_already_answered")
        read = await public.get(issued["link"])
        assert_problem(read, 409, "survey_already_answered")
    [response] = await rows(app, survey_responses, invitation_id=UUID(issued["id"]))
    assert response.answers == ANSWERS
    scores = {s.question_id: (s.kind, s.value)
              for s in await rows(app, survey_scores, response_id=response.id)}
    assert scores == {"nps": ("nps", 9), "csat": ("csat", 5), "ces": ("ces", 2)}
    assert await row_count(app, outbox, entity_id=issued["id"], type="survey.answered") == 1
    listed = await client.get(INVITATIONS, headers=actors.am_east.headers,
                              params={"customer_id": issued["customer_id"]})
    [invitation] = listed.json()["data"]
    assert invitation["responded_at"] is not None and invitation["revoked_at"] is None


async def test_an_expired_token_is_closed_for_reading_and_answering(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    template = await make_template(client, actors.admin)
    customer = await customer_of(client, actors.am_east)
    issued = await invited(client, actors.am_east, template, customer, expires_in_days=1)
    expires = datetime.fromisoformat(issued["expires_at"])
    assert timedelta(hours=23) < expires - clock.now() <= timedelta(days=1)
    async with public_client(app) as public:
        assert (await public.get(issued["link"])).status_code == 200
        shift = (expires - clock.now() + timedelta(minutes=1)).total_seconds()
        clock.advance(seconds=shift)
        try:
            assert_problem(await public.get(issued["link"]), 410, "survey_closed")
            assert_problem(await submit(public, issued["token"], ANSWERS), 410,
                           "survey_closed")
        finally:
            clock.advance(seconds=-shift)
    assert await row_count(app, survey_responses, invitation_id=UUID(issued["id"])) == 0


async def test_wrong_and_tampered_tokens_are_not_found(
        app: FastAPI, issued: dict[str, Any]) -> None:
    token = issued["token"]
    async with public_client(app) as public:
        for wrong in (tampered(token), token[:-1], token + "x", "x" * 43, token.upper()):
            if wrong == token:
                continue
            assert_problem(await public.get(f"{PUBLIC}/{wrong}"), 404, "survey_not_found")
            assert_problem(await submit(public, wrong, ANSWERS), 404, "survey_not_found")
        # None of that touched the real invitation: it still answers.
        assert (await submit(public, token, ANSWERS)).status_code == 204
    assert await row_count(app, survey_responses, invitation_id=UUID(issued["id"])) == 1


async def test_a_revoked_invitation_is_closed(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors,
        issued: dict[str, Any]) -> None:
    revoke = f"{INVITATIONS}/{issued['id']}/revoke"
    # Outside the inviter's write scope the invitation does not exist.
    for outsider in (actors.am_west, actors.am_east2, actors.head_west):
        assert_problem(await client.post(revoke, headers=outsider.headers), 404, "not_found")
    revoked = await client.post(revoke, headers=actors.am_east.headers)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None and "token" not in revoked.json()
    assert_problem(await client.post(revoke, headers=actors.am_east.headers), 409,
                   "invalid_state")
    async with public_client(app) as public:
        assert_problem(await public.get(issued["link"]), 410, "survey_closed")
        assert_problem(await submit(public, issued["token"], ANSWERS), 410, "survey_closed")
    assert await row_count(app, survey_responses, invitation_id=UUID(issued["id"])) == 0
    assert await row_count(app, outbox, entity_id=issued["id"],
                           type="survey_invitation.revoked") == 1
    [entry] = await rows(app, audit_log, entity_id=issued["id"],
                         action="survey_invitation.revoked")
    assert entry.actor_id == actors.am_east.id


async def test_an_answered_invitation_cannot_be_revoked(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors,
        issued: dict[str, Any]) -> None:
    async with public_client(app) as public:
        assert (await submit(public, issued["token"], ANSWERS)).status_code == 204
    refused = await client.post(f"{INVITATIONS}/{issued['id']}/revoke",
                                headers=actors.head_east.headers)
    assert_problem(refused, 409, "invalid_state")
    assert await row_count(app, survey_responses, invitation_id=UUID(issued["id"])) == 1


# What each bad answer is refused with (pointer → reason), one invalid value at a time.
BAD_ANSWERS: list[tuple[dict[str, Any], str, str]] = [
    ({"nps": 11}, "/answers/nps", "answer_out_of_scale"),
    ({"nps": -1}, "/answers/nps", "answer_out_of_scale"),
    ({"nps": "9"}, "/answers/nps", "answer_out_of_scale"),
    ({"nps": 9.5}, "/answers/nps", "answer_out_of_scale"),
    ({"nps": True}, "/answers/nps", "answer_out_of_scale"),
    ({"csat": 0}, "/answers/csat", "answer_out_of_scale"),
    ({"csat": 6}, "/answers/csat", "answer_out_of_scale"),
    ({"ces": 0}, "/answers/ces", "answer_out_of_scale"),
    ({"ces": 8}, "/answers/ces", "answer_out_of_scale"),
    ({"channel": "短信"}, "/answers/channel", "choice_unknown"),
    ({"channel": ["电话"]}, "/answers/channel", "choice_unknown"),
    ({"topics": "报价"}, "/answers/topics", "choice_unknown"),
    ({"topics": []}, "/answers/topics", "choice_unknown"),
    ({"topics": ["报价", "报价"]}, "/answers/topics", "choice_unknown"),
    ({"topics": ["报价", "售后"]}, "/answers/topics", "choice_unknown"),
    ({"comment": 5}, "/answers/comment", "text_answer_invalid"),
    ({"comment": "好" * 5001}, "/answers/comment", "text_answer_invalid"),
    ({"extra": 1}, "/answers/extra", "question_unknown"),
]


async def test_answers_are_checked_per_kind_with_a_pointer_to_each_bad_one(
        app: FastAPI, issued: dict[str, Any]) -> None:
    token = issued["token"]
    async with public_client(app) as public:
        for bad, pointer, reason in BAD_ANSWERS:
            response = await submit(public, token, {**ANSWERS, **bad})
            assert field_errors(response) == {pointer: reason}, bad
        # Every required question missing at once: one pointer each.
        missing = await submit(public, token, {"comment": "只写了意见"})
        assert field_errors(missing) == {f"/answers/{q['id']}": "missing"
                                         for q in QUESTIONS if q.get("required", True)}
        # A refused answer consumed nothing; the scales' ends are valid answers.
        edges = {**ANSWERS, "nps": 10, "csat": 1, "ces": 7, "topics": ["报价", "响应速度"]}
        del edges["comment"]  # optional
        assert (await submit(public, token, edges)).status_code == 204
    [response] = await rows(app, survey_responses, invitation_id=UUID(issued["id"]))
    assert {s.question_id: s.value for s in
            await rows(app, survey_scores, response_id=response.id)} == {
        "nps": 10, "csat": 1, "ces": 7}


async def test_a_second_answer_with_other_values_changes_no_scores(
        app: FastAPI, issued: dict[str, Any]) -> None:
    async with public_client(app) as first, public_client(app) as second:
        assert (await submit(first, issued["token"], ANSWERS)).status_code == 204
        assert_problem(await submit(second, issued["token"], {**ANSWERS, "nps": 0, "csat": 1}),
                       409, "survey_already_answered")
    [response] = await rows(app, survey_responses, invitation_id=UUID(issued["id"]))
    scores = await rows(app, survey_scores, response_id=response.id)
    assert len(scores) == SCORED
    assert {s.question_id: s.value for s in scores}["nps"] == 9


async def test_attempts_are_rate_limited_per_address(
        app: FastAPI, issued: dict[str, Any], clock: TestClock) -> None:
    limit, window = (Settings.model_fields[name].default
                     for name in ("survey_attempts_per_window", "survey_window_s"))
    noisy = address()
    async with public_client(app, noisy) as guesser:
        for i in range(limit):  # wrong tokens count as attempts
            assert_problem(await guesser.get(f"{PUBLIC}/guess-{i}"), 404, "survey_not_found")
        refused = await guesser.get(f"{PUBLIC}/guess-{limit}")
        problem = assert_problem(refused, 429, "too_many_requests")
        assert 1 <= int(refused.headers["retry-after"]) <= window + 1, problem
        # The right token from the same address is refused too, answers included.
        assert_problem(await guesser.get(issued["link"]), 429, "too_many_requests")
        assert_problem(await submit(guesser, issued["token"], ANSWERS), 429,
                       "too_many_requests")
    assert await row_count(app, survey_responses, invitation_id=UUID(issued["id"])) == 0
    # Another address is not affected.
    async with public_client(app) as other:
        assert (await other.get(issued["link"])).status_code == 200
    # Once the window has passed, the noisy address may try again.
    clock.advance(seconds=window + 1)
    try:
        async with public_client(app, noisy) as guesser:
            assert (await submit(guesser, issued["token"], ANSWERS)).status_code == 204
    finally:
        clock.advance(seconds=-(window + 1))
