"""The account-manager report's follow-through figures from the aggregates the database
returns: the edge cases the API scenario does not reach (nothing judged yet, nothing
planned in a currency, nothing scheduled)."""

from __future__ import annotations

from decimal import Decimal

from app.domain.reports.figures import Unit
from app.services.ports.reports import ManagerPlanFigures
from app.services.reports import manager_plan_figures


def test_figures_without_a_base_give_no_rate_but_keep_their_n() -> None:
    found = manager_plan_figures(ManagerPlanFigures(
        contacts=[("m1", 0, 0)], plans=[("m1", "active", 1), ("m1", "draft", 2)],
        milestones=[("m1", 3, 0, 0)], objectives=[("m1", 0, 0)],
        budget=[("m1", "CNY", 1, Decimal("0"), Decimal("500.00")),
                ("m1", "USD", 2, Decimal("200.00"), Decimal("150.00"))]))
    by_key = {(f.section, f.key, f.metric): (f.value, f.n, f.unit) for f in found}
    assert by_key == {
        ("contacts", "m1", "overdue"): (0, None, Unit.COUNT),
        ("contacts", "m1", "overdue_share"): (None, 0, Unit.PERCENT),
        ("plans_by_state", "m1/active", "count"): (1, None, Unit.COUNT),
        ("plans_by_state", "m1/draft", "count"): (2, None, Unit.COUNT),
        ("plans", "m1", "count"): (3, None, Unit.COUNT),
        ("plan_milestones", "m1", "due"): (3, None, Unit.COUNT),
        ("plan_milestones", "m1", "on_time_rate"): (None, 0, Unit.PERCENT),
        ("plan_milestones", "m1", "late"): (0, None, Unit.COUNT),
        ("plan_objectives", "m1", "achieved_rate"): (None, 0, Unit.PERCENT),
        # a percentage of nothing planned means nothing (the plan report's rule)
        ("plan_budget", "m1/CNY", "variance_pct"): (None, 1, Unit.PERCENT),
        ("plan_budget", "m1/USD", "variance_pct"): (-25.0, 2, Unit.PERCENT),
    }
