"""员工培训 through the API on both engines: courses with knowledge materials, sessions
whose results derive `passed` from the pass mark, a person's record with the calendar-month
validity (valid through the day, lapsed the day after), who reads whose record, what lapses
soon, and the events and audit entries a session leaves."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables import outbox
from app.repositories.tables_training import training_courses
from tests.db import row_count, rows
from tests.support import (
    Actors,
    TestClock,
    actor,
    assert_problem,
    audit_entries,
    field_errors,
    unique,
)
from tests.training_support import COURSES, attended, make_course, record, today

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_course_links_existing_articles_and_rejects_unknown_ones(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors) -> None:
    article = (await client.post("/api/v1/knowledge-articles", headers=actors.am_east.headers,
                                 json={"kind": "faq", "title": "变更流程"})).json()
    course = await make_course(client, actors.head_east, material_ids=[article["id"]],
                               pass_mark="80", topic="data_protection")
    assert (course["material_ids"], course["pass_mark"], course["department_id"]) == (
        [article["id"]], "80.00", actors.east)
    before = await row_count(app, training_courses)
    bad = await client.post(COURSES, headers=actors.admin.headers, json={
        "title": "x", "topic": "Bad Topic", "validity_months": 0,
        "material_ids": [article["id"], "00000000-0000-4000-8000-000000000000"]})
    assert field_errors(bad).keys() >= {"/topic", "/validity_months"}
    unknown = await client.post(COURSES, headers=actors.admin.headers, json={
        "title": "x", "topic": "handover", "validity_months": 12,
        "material_ids": ["00000000-0000-4000-8000-000000000000"]})
    assert field_errors(unknown) == {"/material_ids/0": "article_unknown"}
    assert await row_count(app, training_courses) == before
    for who in (actors.am_east, actors.finance):
        assert_problem(await client.post(COURSES, headers=who.headers, json={
            "title": "x", "topic": "handover", "validity_months": 12}), 403, "forbidden")
    listed = await client.get(COURSES, headers=actors.tech.headers, params={"limit": 200})
    assert course["id"] in {c["id"] for c in listed.json()["data"]}


async def test_results_derive_passed_and_the_record_shows_the_validity_boundary(
        client: httpx.AsyncClient, app: FastAPI, actors: Actors, clock: TestClock) -> None:
    course = await make_course(client, actors.admin, pass_mark="80", validity_months=1)
    day = today(clock)
    trainee = await actor(client, actors.admin, actors.east, ["account_manager"])
    failed = await actor(client, actors.admin, actors.east, ["account_manager"])
    absent = await actor(client, actors.admin, actors.east, ["account_manager"])
    # One month before today: valid through today exactly (calendar months).
    held = day.replace(day=1) - timedelta(days=1) if day.day > 28 else (
        day.replace(month=day.month - 1) if day.month > 1 else day.replace(
            year=day.year - 1, month=12))
    response = await record(client, actors.head_east, course, held, actors.tech,
                            attended(trainee, "80"), attended(failed, "79.5"),
                            {"user_id": absent.id, "attended": False})
    assert response.status_code == 201, response.text
    assert [(r["attended"], r["passed"]) for r in response.json()["results"]] == [
        (True, True), (True, False), (False, False)]

    mine = (await client.get(f"/api/v1/users/{trainee.id}/training",
                             headers=trainee.headers)).json()
    [standing] = mine["courses"]
    assert standing["completed_on"] == held.isoformat()
    if day.day <= 28:  # same day next month: valid through today, lapsed tomorrow
        assert (standing["valid_through"], standing["standing"]) == (day.isoformat(),
                                                                     "trained")
    assert (await client.get(f"/api/v1/users/{failed.id}/training",
                             headers=actors.head_east.headers)).json()["courses"] == []
    # A head of another department and a peer do not see it.
    for who in (actors.head_west, actors.am_east):
        assert_problem(await client.get(f"/api/v1/users/{trainee.id}/training",
                                        headers=who.headers), 404, "not_found")
    # A head records only their own department's people.
    west = await record(client, actors.head_east, course, day, actors.tech,
                        attended(actors.am_west, "90"))
    assert field_errors(west) == {"/attendees/0/user_id": "user_unknown"}

    events = [r for r in await rows(app, outbox) if r.type == "training.completed"
              and r.entity_id == trainee.id]
    assert [e.data["valid_through"] for e in events] == [standing["valid_through"]]
    session = response.json()["id"]
    [entry] = await audit_entries(client, actors.auditor, "training_session", session)
    assert entry["action"] == "training_session.recorded"

    expiring = await client.get("/api/v1/training/expiring", headers=actors.head_east.headers,
                                params={"within": "3d", "limit": 200})
    assert expiring.status_code == 200, expiring.text
    ids = {(c["user_id"], c["course_id"]) for c in expiring.json()["data"]}
    assert ((trainee.id, course["id"]) in ids) == (day.day <= 28)
    assert_problem(await client.get("/api/v1/training/expiring",
                                    headers=actors.am_east.headers), 403, "forbidden")


async def test_coverage_per_department_and_role_with_csv(
        client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    department = (await client.post("/api/v1/departments", headers=actors.admin.headers,
                                    json={"name": unique("培训部")})).json()["id"]
    head = await actor(client, actors.admin, department, ["department_head"])
    trained, lapsed, _never = [await actor(client, actors.admin, department,
                                          ["account_manager"]) for _ in range(3)]
    course = await make_course(client, actors.admin, validity_months=1)
    day = today(clock)
    for who, on in ((trained, day), (lapsed, day - timedelta(days=70))):
        assert (await record(client, head, course, on, actors.tech,
                             attended(who))).status_code == 201
    params = {"course_id": course["id"], "department_id": department}
    report = await client.get("/api/v1/reports/training-coverage", headers=head.headers,
                              params=params)
    assert report.status_code == 200, report.text
    assert report.json()["on"] == day.isoformat()
    assert [(r["role"], r["trained"], r["lapsed"], r["never"])
            for r in report.json()["rows"]] == [("account_manager", 1, 1, 1),
                                                ("department_head", 0, 0, 1)]
    exported = await client.get("/api/v1/reports/training-coverage",
                                headers=actors.executive.headers,
                                params={**params, "format": "csv"})
    lines = exported.text.lstrip("\ufeff").splitlines()
    assert lines[0] == "on,course_id,course_title,department_id,role,trained,lapsed,never"
    assert lines[1].endswith("account_manager,1,1,1") and len(lines) == 3
    # A week ago the lapsed completion was lapsed too; `until` is exclusive.
    earlier = await client.get("/api/v1/reports/training-coverage", headers=head.headers,
                               params={**params, "until": day.isoformat()})
    assert earlier.json()["on"] == (day - timedelta(days=1)).isoformat()
    assert earlier.json()["rows"][0]["trained"] == 0
    assert_problem(await client.get("/api/v1/reports/training-coverage",
                                    headers=actors.head_east.headers, params=params),
                   404, "not_found")
