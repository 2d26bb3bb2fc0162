"""The handover report's figures by department and by month (GET /reports/handovers),
aggregated by the database, against values computed by hand on both engines: handovers
seeded with exact instants in two departments of the test's own, in 2025.

Department A (am1 → am2):
- h1 created Mon 31 Mar 2025 23:00 UTC (1 Apr in Shanghai: the month is the UTC one),
  transferred 2 days later, its follow-up due 10 Apr and not done: overdue; 2 findings.
- h2 created 31 Mar 10:00 UTC, transferred 3.5 days later, followed up.
- h3 created 1 Apr 00:30 UTC, transferred 5 days later, follow-up due in 2026; 1 finding.
- h4 created 2 Apr, still preparing.
Department B: h5 created 3 Apr, transferred a day later, follow-up due 10 Apr: overdue.

A: 4 handovers, 3 transferred, median (2, 3.5, 5) = 3.5 days, 3 findings (0.75 each),
1 overdue. March: h1, h2 — median (2 + 3.5) / 2 = 2.75, 2 findings (1.0), 1 overdue.
April: h3, h4 — median 5.0, 1 finding (0.5). B: 1, median 1.0, no findings, 1 overdue."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.repositories.tables_handovers import handover_findings, handovers
from tests.change_request_support import customer_of
from tests.feedback_support import pinned
from tests.report_support import handover, insert_rows, report, team
from tests.support import Actors, TestClock

pytestmark = pytest.mark.asyncio(loop_scope="session")

REPORT = "/api/v1/reports/handovers"
PERIOD = {"since": "2025-03-01", "until": "2025-05-01"}
REPORT_AT = datetime(2025, 5, 10, 4, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def moved(customer: dict[str, Any], to: str, created: datetime, days: float | None,
          state: str, follow_up_due: date | None = None) -> dict[str, Any]:
    transferred = None if days is None else created + timedelta(days=days)
    return handover(customer, to, created, transferred, state=state,
                    follow_up_due=follow_up_due)


def finding(h: dict[str, Any], who: str) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "handover_id": h["id"], "item_key": "contacts",
            "raised_by": uuid.UUID(who), "text": "缺少财务联系人",
            "raised_at": h["created_at"]}


def tally(count: int, by_state: dict[str, int], transferred: int, median: float | None,
          per_handover: float | None, overdue: int) -> dict[str, Any]:
    return {"count": count, "by_state": by_state, "transferred": transferred,
            "median_days_to_transfer": median, "findings_per_handover": per_handover,
            "overdue_follow_ups": overdue}


async def test_counts_medians_and_findings_by_department_and_month(
        app: FastAPI, client: httpx.AsyncClient, actors: Actors, clock: TestClock) -> None:
    a, b = await team(client, actors.admin), await team(client, actors.admin)
    mine, theirs = await customer_of(client, a.am1), await customer_of(client, b.am1)
    due = date(2025, 4, 10)
    h1 = moved(mine, a.am2.id, at(3, 31, 23), 2, "transferred", due)
    h2 = moved(mine, a.am2.id, at(3, 31, 10), 3.5, "followed_up", due)
    h3 = moved(mine, a.am2.id, at(4, 1, 0, 30), 5, "transferred", date(2026, 1, 1))
    h4 = moved(mine, a.am2.id, at(4, 2, 9), None, "preparing")
    h5 = moved(theirs, b.am2.id, at(4, 3, 9), 1, "transferred", due)
    await insert_rows(app, handovers, [h1, h2, h3, h4, h5])
    await insert_rows(app, handover_findings, [finding(h1, a.head.id), finding(h1, a.head.id),
                                               finding(h3, a.head.id)])

    a_all = tally(4, {"followed_up": 1, "preparing": 1, "transferred": 2}, 3, 3.5, 0.75, 1)
    march = tally(2, {"followed_up": 1, "transferred": 1}, 2, 2.75, 1.0, 1)
    april = tally(2, {"preparing": 1, "transferred": 1}, 1, 5.0, 0.5, 0)
    b_all = tally(1, {"transferred": 1}, 1, 1.0, 0.0, 1)
    with pinned(clock, REPORT_AT):
        one = await report(client, actors.admin, REPORT, department_id=a.department_id,
                           **PERIOD)
        assert (one["overall"], one["by_department"], one["by_month"]) == (
            a_all, [{"department_id": a.department_id, **a_all}],
            [{"month": "2025-03", **march}, {"month": "2025-04", **april}])
        every = await report(client, actors.admin, REPORT, **PERIOD)
        departments = {d.pop("department_id"): d for d in every["by_department"]}
        assert (departments[a.department_id], departments[b.department_id]) == (a_all, b_all)
        # a head counts their department's only
        head = await report(client, b.head, REPORT, **PERIOD)
        assert (head["overall"], head["by_month"]) == (b_all, [{"month": "2025-04", **b_all}])
        nothing = await report(client, a.head, REPORT, since="2025-05-01", until="2025-06-01")
        assert (nothing["overall"], nothing["by_department"], nothing["by_month"]) == (
            tally(0, {}, 0, None, None, 0), [], [])
