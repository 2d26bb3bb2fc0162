"""Report figures: percentiles from value counts equal ``percentile_cont`` over the values
themselves; shares say their n and give no figure for none; a sample's share carries its
Wilson interval."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.domain.reports.figures import Unit, percentile_of_counts, share, spread


def percentile_cont(values: list[float], p: float) -> float:
    ordered = sorted(values)
    h = (len(ordered) - 1) * p
    low = int(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


@given(counts=st.dictionaries(st.integers(0, 100), st.integers(1, 20), min_size=1),
       p=st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]))
def test_percentiles_from_counts_are_those_of_the_values(counts: dict[int, int],
                                                         p: float) -> None:
    values = [float(v) for v, n in counts.items() for _ in range(n)]
    found = percentile_of_counts([(float(v), n) for v, n in counts.items()], p)
    assert found is not None and abs(found - percentile_cont(values, p)) < 1e-9


def test_no_values_give_no_percentile() -> None:
    assert percentile_of_counts([], 0.5) is None
    assert percentile_of_counts([(3.0, 0)], 0.5) is None


def test_shares_carry_their_n_and_samples_their_interval() -> None:
    assert share("s", "all", "rate", 1, 4).value == 25.0
    assert share("s", "all", "rate", 1, 4).n == 4
    assert share("s", "all", "rate", 1, 4).interval is None
    none = share("s", "all", "rate", 0, 0)
    assert (none.value, none.n) == (None, 0)
    sampled = share("s", "all", "rate", 1, 2, sample=True)
    assert sampled.interval is not None
    assert (sampled.interval.low, sampled.interval.high) == (9.5, 90.5)
    median, p90 = spread("lead", "finance", 0, None, None, Unit.WORKING_HOURS)
    assert (median.value, p90.value, median.n) == (None, None, 0)
