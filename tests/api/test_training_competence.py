"""Competence rules over HTTP on both engines: the setting (administrators, If-Match,
courses must exist, every change audited) and the refusal's contract: 403
`training_required` as problem+json naming the course, the change request unchanged, the
refusal audited. The rules' logic is proven in tests/domain/test_competence.py and
tests/usecases/test_competence_rules.py."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.change_request_support import decide, drive, read_cr
from tests.support import Actors, TestClock, assert_problem, audit_entries, field_errors
from tests.training_support import attended, make_course, record, today

pytestmark = pytest.mark.asyncio(loop_scope="session")
RULES = "/api/v1/settings/competence-rules"


async def _put(client: httpx.AsyncClient, actors: Actors, body: dict[str, Any]
               ) -> httpx.Response:
    current = await client.get(RULES, headers=actors.admin.headers)
    return await client.put(RULES, json=body, headers={
        **actors.admin.headers, "If-Match": current.headers["etag"]})


async def test_an_untrained_approver_is_refused_naming_the_course(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    course = await make_course(client, actors.admin, title="审批人培训")
    unknown = await _put(client, actors, {"enabled": True, "rules": [
        {"duty": "change_request.approve", "course_id": actors.east}]})
    assert field_errors(unknown) == {"/rules/0/course_id": "course_unknown"}
    assert_problem(await client.put(RULES, headers=actors.head_east.headers, json={
        "enabled": True, "rules": []}), 403, "forbidden")
    rule = {"duty": "change_request.approve", "course_id": course["id"],
            "role": "department_head"}
    on = await _put(client, actors, {"enabled": True, "rules": [rule]})
    assert on.status_code == 200, on.text
    try:
        cr = await drive(client, actors, "awaiting_approval")
        refused = await decide(client, actors.head_east, cr, cr["approval_steps"][0])
        body = assert_problem(refused, 403, "training_required")
        assert (body["course_id"], body["course_title"], body["reason"]) == (
            course["id"], "审批人培训", "missing")
        assert "审批人培训" in body["detail"]
        assert (await read_cr(client, actors.head_east, cr))["version"] == cr["version"]
        entries = await audit_entries(client, actors.auditor, "change_request", cr["id"])
        assert entries[-1]["action"] == "training.competence_refused"
        assert entries[-1]["after"]["course_id"] == course["id"]

        trained = await record(client, actors.admin, course, today(clock), actors.tech,
                               attended(actors.head_east))
        assert trained.status_code == 201, trained.text
        approved = await decide(client, actors.head_east, cr, cr["approval_steps"][0])
        assert approved.status_code == 200, approved.text
    finally:
        off = await _put(client, actors, {"enabled": False, "rules": [rule]})
        assert off.status_code == 200, off.text
    changes = await audit_entries(client, actors.auditor, "policy", "training_competence")
    assert [(c["after"]["enabled"]) for c in changes][-2:] == [True, False]
