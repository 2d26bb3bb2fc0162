"""The satisfaction report (domain §6) against figures computed by hand, through the API on
both engines: 40 answers on a database of their own (18 promoters, 12 passives, 10
detractors → NPS 20.0), each score with its 95% interval, n and low-confidence flag; the
response rate; periods; segments by tier, department and owner (per-manager figures shrunk
toward the overall mean); each role's scope; the CSV export."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from scipy.stats import binomtest

from tests import conftest
from tests.conftest import Database, make_database
from tests.handover_support import customer_of_tier
from tests.support import Actor, Actors, TestClock, assert_problem, field_errors
from tests.survey_support import REPORT, answer, invited, make_template, own_team

Z = 1.96
# The 40 answers, one response each: NPS 18 promoters (9–10), 12 passives, 10 detractors;
# CSAT 30 satisfied (4–5) of 40; CES from 1 (easy) to 7.
NPS = [10] * 9 + [9] * 9 + [8] * 6 + [7] * 6 + [6] * 4 + [3] * 4 + [0] * 2
CSAT = [5] * 18 + [4] * 12 + [3] * 6 + [2] * 3 + [1]
CES = [1] * 5 + [2] * 10 + [3] * 12 + [4] * 8 + [5] * 3 + [6] + [7]
# Who owns the customer each response is about: the first 25 answers are about a tier A
# customer of am_east, the next 10 a tier C customer of am_east2 (both east), the last 5 a
# tier D customer of am_west.
SPLIT = {"A": range(0, 25), "C": range(25, 35), "D": range(35, 40)}
UNANSWERED = 4  # more invitations to the tier A customer, never answered
QUESTIONS = [{"id": "nps", "kind": "nps", "text": "推荐意愿"},
             {"id": "csat", "kind": "csat", "text": "满意度"},
             {"id": "ces", "kind": "ces", "text": "费力程度"},
             {"id": "note", "kind": "text", "text": "意见", "required": False}]


# Hand computations (textbook formulas, written independently of app.domain) -------------

def nps_of(values: list[int]) -> tuple[float, float, float]:
    """(estimate, low, high): % promoters − % detractors; each share's Wilson interval at
    97.5% (scipy's), so both hold together 95% of the time, combined at their extremes."""
    n = len(values)
    promoters = sum(v >= 9 for v in values)
    detractors = sum(v <= 6 for v in values)
    prom, det = (binomtest(k, n).proportion_ci(confidence_level=0.975, method="wilson")
                 for k in (promoters, detractors))
    return (100 * (promoters - detractors) / n, 100 * (prom.low - det.high),
            100 * (prom.high - det.low))


def csat_of(values: list[int]) -> tuple[float, float, float]:
    """(estimate, low, high) in percent, with the Wilson score interval."""
    n = len(values)
    p = sum(v >= 4 for v in values) / n
    centre = (p + Z ** 2 / (2 * n)) / (1 + Z ** 2 / n)
    half = Z / (1 + Z ** 2 / n) * math.sqrt(p * (1 - p) / n + Z ** 2 / (4 * n ** 2))
    return 100 * p, 100 * (centre - half), 100 * (centre + half)


def ces_of(values: list[int], t: float) -> tuple[float, float, float]:
    """(mean, low, high) with a Student-t interval for the quantile ``t``."""
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, mean - t * sd / math.sqrt(n), mean + t * sd / math.sqrt(n)


def assert_score(body: dict[str, Any], expected: tuple[float, float, float], n: int) -> None:
    """A reported score (rounded to 2 places) against the hand-computed one."""
    estimate, low, high = expected
    assert body["estimate"] == pytest.approx(estimate, abs=0.006), body
    assert body["interval"]["low"] == pytest.approx(low, abs=0.006), body
    assert body["interval"]["high"] == pytest.approx(high, abs=0.006), body
    assert body["n"] == n and body["low_confidence"] is (n < 30), body


def hand(metric: str, indices: range | list[int]) -> tuple[float, float, float]:
    if metric == "nps":
        return nps_of([NPS[i] for i in indices])
    if metric == "csat":
        return csat_of([CSAT[i] for i in indices])
    values = [CES[i] for i in indices]
    # The app's t table has rows 1–30, 40, 60, 120 and uses the row below between them.
    df = len(values) - 1
    table = {4: 2.776, 9: 2.262, 24: 2.064, 34: 2.042, 39: 2.042}
    return ces_of(values, table[df])


# The data: one database for the module ---------------------------------------------------

@dataclass
class World:
    app: FastAPI
    client: httpx.AsyncClient
    actors: Actors
    template: dict[str, Any]
    customers: dict[str, dict[str, Any]]  # tier → customer
    owners: dict[str, Actor]  # tier → owner
    answered_at: datetime  # when the 40 were answered
    later_at: datetime  # when two more were, 40 days on

    async def report(self, who: Actor | None = None, **params: Any) -> dict[str, Any]:
        response = await self.client.get(REPORT, headers=(who or self.actors.admin).headers,
                                         params=params)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def until(self) -> str:
        """The day after the 40 answers: leaves out the two given 40 days later."""
        return (self.answered_at + timedelta(days=1)).date().isoformat()


@pytest.fixture(scope="module")
def report_database(db_engine: str, tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[Database]:
    yield from make_database(db_engine, Path(tmp_path_factory.mktemp("satisfaction")))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(report_database: Database, clock: TestClock) -> AsyncIterator[World]:
    app = conftest.test_app(conftest.test_settings(report_database.url), clock=clock)
    client, actors = await own_team(app)
    owners = {"A": actors.am_east, "C": actors.am_east2, "D": actors.am_west}
    customers = {tier: await customer_of_tier(client, who, tier) for tier, who in owners.items()}
    template = await make_template(client, actors.admin, QUESTIONS, "满意度回访")
    answered_at = clock.now()
    for tier, indices in SPLIT.items():
        for i in indices:
            issued = await invited(client, owners[tier], template, customers[tier])
            await answer(app, issued["token"], {"nps": NPS[i], "csat": CSAT[i], "ces": CES[i]})
    for _ in range(UNANSWERED):
        await invited(client, owners["A"], template, customers["A"])
    shift = timedelta(days=40)
    clock.advance(seconds=shift.total_seconds())
    try:
        later_at = clock.now()
        for _ in range(2):
            issued = await invited(client, owners["A"], template, customers["A"])
            await answer(app, issued["token"], {"nps": 10, "csat": 5, "ces": 1, "note": "很好"})
    finally:
        clock.advance(seconds=-shift.total_seconds())
    yield World(app, client, actors, template, customers, owners, answered_at, later_at)
    await client.aclose()
    await app.state.engines.dispose()


# The tests ---------------------------------------------------------------------------------

async def test_forty_answers_give_the_hand_computed_scores(world: World) -> None:
    body = await world.report(until=world.until())
    overall = body["overall"]
    everyone = range(40)
    assert nps_of(NPS)[0] == pytest.approx(20.0)
    assert_score(overall["nps"], hand("nps", everyone), 40)
    assert overall["nps"]["estimate"] == 20.0
    assert overall["nps"]["interval"] == {"low": -13.59, "high": 49.13}
    assert_score(overall["csat"], hand("csat", everyone), 40)
    assert overall["csat"]["estimate"] == 75.0
    assert overall["csat"]["interval"] == {"low": 59.81, "high": 85.81}
    # CES: 39 degrees of freedom use the table's row 30 (2.042), a little wider than the
    # exact t (2.0227): the reported interval contains the exact one.
    assert_score(overall["ces"], hand("ces", everyone), 40)
    exact = ces_of(CES, 2.0227)
    assert overall["ces"]["interval"]["low"] <= exact[1] < exact[2] <= \
        overall["ces"]["interval"]["high"]
    assert body["response_rate"] == pytest.approx({
        "rate": 100 * 40 / 44, "responses": 40, "n": 44, "low_confidence": False})
    assert body["segment"] is None and body["by_segment"] == [] and body["shrinkage"] == {}
    assert [p["period"] for p in body["by_period"]] == [world.answered_at.strftime("%Y-%m")]
    assert {m: body["by_period"][0][m] for m in ("nps", "csat", "ces")} == overall


async def test_no_answers_give_no_estimate(world: World) -> None:
    unused = await make_template(world.client, world.actors.admin, QUESTIONS)
    for params in ({"template_id": unused["id"]},
                   {"since": (world.later_at + timedelta(days=2)).date().isoformat()}):
        body = await world.report(**params)
        for metric in ("nps", "csat", "ces"):
            assert body["overall"][metric] == {"metric": metric, "estimate": None,
                                               "interval": None, "n": 0,
                                               "low_confidence": True}
        assert body["response_rate"] == {"rate": None, "responses": 0, "n": 0,
                                         "low_confidence": True}
        assert body["by_period"] == []
    own = await world.report(template_id=world.template["id"], until=world.until())
    assert own["overall"]["nps"]["n"] == 40


async def test_periods_split_by_month_and_quarter(world: World) -> None:
    by_month = await world.report()
    first, later = (t.strftime("%Y-%m") for t in (world.answered_at, world.later_at))
    assert [p["period"] for p in by_month["by_period"]] == [first, later]
    now, then = by_month["by_period"]
    assert_score(now["nps"], hand("nps", range(40)), 40)
    assert (then["nps"]["estimate"], then["nps"]["n"], then["nps"]["low_confidence"]) == (
        100.0, 2, True)
    assert (then["csat"]["estimate"], then["ces"]["estimate"]) == (100.0, 1.0)
    assert by_month["overall"]["nps"]["n"] == 42
    assert by_month["response_rate"]["responses"] == 42 and by_month["response_rate"]["n"] == 46

    def quarter(t: datetime) -> str:
        return f"{t.year}-Q{(t.month - 1) // 3 + 1}"

    by_quarter = await world.report(interval="quarter")
    quarters = sorted({quarter(world.answered_at), quarter(world.later_at)})
    assert [p["period"] for p in by_quarter["by_period"]] == quarters
    assert sum(p["nps"]["n"] for p in by_quarter["by_period"]) == 42
    only_later = await world.report(since=world.until())
    assert only_later["overall"]["nps"]["n"] == 2
    assert only_later["response_rate"] == {"rate": 100.0, "responses": 2, "n": 2,
                                           "low_confidence": True}


async def test_segments_by_tier_and_department(world: World) -> None:
    tiers = await world.report(segment="tier", until=world.until())
    assert tiers["segment"] == "tier" and tiers["shrinkage"] == {}
    assert [g["key"] for g in tiers["by_segment"]] == ["A", "C", "D"]
    for group in tiers["by_segment"]:
        indices = SPLIT[group["key"]]
        for metric in ("nps", "csat", "ces"):
            assert_score(group[metric], hand(metric, indices), len(indices))
        assert group["shrunk"] is None
    departments = await world.report(segment="department", until=world.until())
    east, west = world.actors.east, world.actors.west
    by_key = {g["key"]: g for g in departments["by_segment"]}
    assert set(by_key) == {east, west}
    assert_score(by_key[east]["nps"], hand("nps", range(35)), 35)
    assert_score(by_key[west]["csat"], hand("csat", SPLIT["D"]), 5)
    only_west = await world.report(department_id=west, until=world.until())
    assert_score(only_west["overall"]["nps"], hand("nps", SPLIT["D"]), 5)
    assert only_west["response_rate"]["n"] == 5


async def test_per_manager_figures_are_shrunk_toward_the_overall_mean(world: World) -> None:
    body = await world.report(segment="owner", until=world.until())
    owners = {who.id: tier for tier, who in world.owners.items()}
    assert {g["key"] for g in body["by_segment"]} == set(owners)
    assert set(body["shrinkage"]) == {"nps", "csat", "ces"}
    for metric, block in body["shrinkage"].items():
        # figures are rounded to two places (issue 13 item 12)
        assert block["overall"] == pytest.approx(hand(metric, range(40))[0], abs=0.006)
        assert block["k"] > 0 and block["k_source"] in ("estimated", "prior")
        assert block["explanation"] == "shrunk_toward_overall_mean"
    for group in body["by_segment"]:
        indices = SPLIT[owners[group["key"]]]
        for metric in ("nps", "csat", "ces"):
            assert_score(group[metric], hand(metric, indices), len(indices))
            shrunk, overall = group["shrunk"][metric], body["shrinkage"][metric]["overall"]
            raw = hand(metric, indices)[0]
            assert shrunk["raw"] == pytest.approx(raw, abs=0.006)
            assert min(raw, overall) <= shrunk["shrunk"] <= max(raw, overall), (metric, group)
            k = body["shrinkage"][metric]["k"]
            assert shrunk["weight"] == pytest.approx(len(indices) / (len(indices) + k),
                                                     abs=0.002)
            assert shrunk["shrunk"] == pytest.approx(
                overall + shrunk["weight"] * (raw - overall), abs=0.2)
    # The smallest group moves furthest toward the mean.
    weights = {owners[g["key"]]: g["shrunk"]["nps"]["weight"] for g in body["by_segment"]}
    assert weights["A"] > weights["C"] > weights["D"]


async def test_each_role_sees_its_own_scope(world: World) -> None:
    a = world.actors
    east = list(SPLIT["A"]) + list(SPLIT["C"])
    expected: list[tuple[Actor, list[int], int]] = [
        (a.admin, list(range(40)), 44), (a.executive, list(range(40)), 44),
        (a.analyst, list(range(40)), 44), (a.head_east, east, 39),
        (a.head_west, list(SPLIT["D"]), 5), (a.am_east, list(SPLIT["A"]), 29),
        (a.am_east2, list(SPLIT["C"]), 10), (a.am_west, list(SPLIT["D"]), 5)]
    for who, indices, invitations in expected:
        body = await world.report(who, until=world.until())
        assert_score(body["overall"]["nps"], hand("nps", indices), len(indices))
        assert_score(body["overall"]["csat"], hand("csat", indices), len(indices))
        assert body["response_rate"]["n"] == invitations, who.username
        assert body["response_rate"]["responses"] == len(indices)
    # A manager's own segment view holds only their customers, and a department filter
    # cannot widen the scope.
    mine = await world.report(a.am_east, segment="owner", until=world.until())
    assert [g["key"] for g in mine["by_segment"]] == [a.am_east.id]
    widened = await world.report(a.am_east, department_id=a.west)
    assert widened["overall"]["nps"]["n"] == 0
    for who in (a.finance, a.pm, a.tech, a.auditor):
        assert_problem(await world.client.get(REPORT, headers=who.headers), 403, "forbidden")
    assert_problem(await world.client.get(REPORT), 401, "not_authenticated")


async def test_the_report_exports_as_csv(world: World) -> None:
    response = await world.client.get(REPORT, headers=world.actors.admin.headers, params={
        "format": "csv", "segment": "tier", "until": world.until()})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "satisfaction-report.csv" in response.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert table[0] == ["group", "key", "metric", "estimate", "ci95_low", "ci95_high", "n",
                        "low_confidence"]
    rows = {(r[0], r[1], r[2]): r[3:] for r in table[1:]}
    assert len(rows) == len(table) - 1 == 3 * (1 + 1 + 3)  # overall, one month, three tiers
    assert rows[("overall", "", "nps")] == ["20.0", "-13.59", "49.13", "40", "False"]
    assert rows[("overall", "", "csat")] == ["75.0", "59.81", "85.81", "40", "False"]
    month = world.answered_at.strftime("%Y-%m")
    assert rows[("period", month, "nps")] == rows[("overall", "", "nps")]
    estimate, low, high = hand("nps", SPLIT["D"])
    d_row = rows[("tier", "D", "nps")]
    assert [float(x) for x in d_row[:3]] == pytest.approx([estimate, low, high], abs=0.006)
    assert d_row[3:] == ["5", "True"]
    # No answers: the estimate cells are empty, not 0.
    empty = await world.client.get(REPORT, headers=world.actors.admin.headers, params={
        "format": "csv", "since": (world.later_at + timedelta(days=2)).date().isoformat()})
    empty_rows = list(csv.reader(io.StringIO(empty.text.lstrip("\ufeff"))))[1:]
    assert empty_rows == [["overall", "", m, "", "", "", "0", "True"]
                          for m in ("nps", "csat", "ces")]


async def test_report_parameters_are_checked(world: World) -> None:
    headers = world.actors.admin.headers
    for params, pointer in (({"interval": "week"}, "interval"), ({"segment": "region"},
                                                                   "segment"),
                            ({"since": "2026-13-01"}, "since"), ({"format": "xlsx"}, "format")):
        response = await world.client.get(REPORT, headers=headers, params=params)
        assert pointer in field_errors(response), params
    unknown = await world.client.get(REPORT, headers=headers, params={"owner": "me"})
    assert unknown.status_code == 400, unknown.text
    assert unknown.json()["code"] and unknown.json()["status"] == 400


async def test_one_answer_and_all_promoters(app: FastAPI, client: httpx.AsyncClient,
                                            actors: Actors) -> None:
    """Edge cases on the shared app, counted through a template of the test's own."""
    template = await make_template(client, actors.admin, QUESTIONS)
    customer = await customer_of_tier(client, actors.am_east, "B")

    async def respond(nps: int, csat: int, ces: int) -> dict[str, Any]:
        issued = await invited(client, actors.am_east, template, customer)
        await answer(app, issued["token"], {"nps": nps, "csat": csat, "ces": ces})
        response = await client.get(REPORT, headers=actors.head_east.headers,
                                    params={"template_id": template["id"]})
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    one = await respond(9, 3, 4)
    overall = one["overall"]
    # One promoter: NPS 100, but one answer is no certainty: a wide interval, not a point.
    assert overall["nps"] == {"metric": "nps", "estimate": 100.0, "n": 1,
                              "interval": {"low": -66.8, "high": 100.0}, "low_confidence": True}
    assert_score(overall["nps"], nps_of([9]), 1)
    # No satisfied answer: CSAT 0 with a Wilson interval that does not collapse.
    assert_score(overall["csat"], csat_of([3]), 1)
    assert overall["csat"]["interval"] == {"low": 0.0, "high": 79.35}
    # One CES answer says nothing about the spread: the whole scale.
    assert overall["ces"] == {"metric": "ces", "estimate": 4.0, "n": 1,
                              "interval": {"low": 1.0, "high": 7.0}, "low_confidence": True}
    assert one["response_rate"] == {"rate": 100.0, "responses": 1, "n": 1,
                                    "low_confidence": True}
    await respond(10, 5, 2)
    three = await respond(10, 5, 2)
    assert three["overall"]["nps"]["estimate"] == 100.0
    assert_score(three["overall"]["nps"], nps_of([9, 10, 10]), 3)
    assert three["overall"]["nps"]["interval"]["low"] > overall["nps"]["interval"]["low"]
    assert_score(three["overall"]["csat"], csat_of([3, 5, 5]), 3)
    mean, low, high = ces_of([4, 2, 2], 4.303)  # t for 2 degrees of freedom
    assert (low, high) != (max(1.0, low), min(7.0, high))  # the interval is clipped
    assert_score(three["overall"]["ces"], (mean, max(1.0, low), min(7.0, high)), 3)
