"""A survey token under concurrency (domain §6): two submits of the same token racing on
PostgreSQL give exactly one 204 and one 409 ``survey_already_answered``, one stored
response, one set of scores and one ``survey.answered`` event (the invitation's row lock
makes them take turns; the unique invitation on responses backs it up)."""

from __future__ import annotations

import asyncio
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables import outbox
from app.repositories.tables_feedback import survey_responses, survey_scores
from tests.change_request_support import customer_of
from tests.db import row_count, rows
from tests.support import Actors, assert_problem
from tests.survey_support import ANSWERS, invited, make_template, public_client, submit

ROUNDS = 4


@pytest.mark.postgres_only
async def test_two_submits_of_one_token_store_one_response(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors) -> None:
    template = await make_template(client, actors.admin)
    customer = await customer_of(client, actors.am_east)
    for _ in range(ROUNDS):
        issued = await invited(client, actors.am_east, template, customer)
        async with public_client(app) as a, public_client(app) as b:
            responses = await asyncio.gather(
                submit(a, issued["token"], ANSWERS),
                submit(b, issued["token"], {**ANSWERS, "nps": 0, "csat": 1}))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [204, 409], [r.text for r in responses]
        [loser] = [r for r in responses if r.status_code == 409]
        assert_problem(loser, 409, "survey_already_answered")
        [response] = await rows(app, survey_responses, invitation_id=UUID(issued["id"]))
        scores = await rows(app, survey_scores, response_id=response.id)
        assert sorted(s.kind for s in scores) == ["ces", "csat", "nps"]
        # The stored scores are the winner's, all of them from one answer.
        assert {s.question_id: s.value for s in scores} == {
            q: response.answers[q] for q in ("nps", "csat", "ces")}
        assert await row_count(app, outbox, entity_id=issued["id"],
                               type="survey.answered") == 1
