"""The risk matrix (domain §7): default bands, any monotone matrix accepted, every
non-monotone one refused with the offending cells named."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.common.errors import InvalidInput
from app.domain.risk.matrix import SCALE, RiskLevel, RiskMatrix, default_level

levels = st.sampled_from(list(RiskLevel))


@st.composite
def monotone_matrices(draw: st.DrawFn) -> RiskMatrix:
    """Build row by row, each cell at least its upper and left neighbours."""
    cells: list[list[RiskLevel]] = []
    for lk in SCALE:
        row: list[RiskLevel] = []
        for im in SCALE:
            floor = max([RiskLevel.LOW]
                        + ([cells[lk - 2][im - 1]] if lk > 1 else [])
                        + ([row[im - 2]] if im > 1 else []))
            row.append(draw(st.sampled_from([lv for lv in RiskLevel if lv >= floor])))
        cells.append(row)
    return RiskMatrix(tuple(tuple(r) for r in cells))


def test_default_bands_follow_the_product() -> None:
    matrix = RiskMatrix.default()
    expected = {(1, 4): "low", (1, 5): "medium", (3, 3): "medium", (2, 5): "high",
                (4, 4): "high", (4, 5): "critical", (5, 5): "critical", (1, 1): "low"}
    for (lk, im), label in expected.items():
        assert matrix.level(lk, im).label == label


@given(st.integers(1, 5), st.integers(1, 5))
def test_default_matrix_is_the_product_rule(lk: int, im: int) -> None:
    assert RiskMatrix.default().level(lk, im) == default_level(lk, im)


@given(monotone_matrices())
def test_any_monotone_matrix_is_accepted_and_round_trips(matrix: RiskMatrix) -> None:
    assert matrix.violations() == []
    assert RiskMatrix.from_dict(matrix.to_dict()) == matrix
    for lk in SCALE:
        for im in SCALE:
            for ol in range(1, lk + 1):
                for oi in range(1, im + 1):
                    assert matrix.level(lk, im) >= matrix.level(ol, oi)


@given(monotone_matrices(), st.integers(1, 5), st.integers(1, 5), levels)
def test_lowering_a_cell_below_a_lesser_neighbour_is_refused(
        matrix: RiskMatrix, lk: int, im: int, new: RiskLevel) -> None:
    cells = [list(r) for r in matrix.cells]
    cells[lk - 1][im - 1] = new
    neighbours = [matrix.level(nl, ni) for nl, ni in ((lk - 1, im), (lk, im - 1))
                  if nl >= 1 and ni >= 1]
    followers = [matrix.level(nl, ni) for nl, ni in ((lk + 1, im), (lk, im + 1))
                 if nl <= 5 and ni <= 5]
    broken = any(n > new for n in neighbours) or any(f < new for f in followers)
    if not broken:
        assert RiskMatrix(tuple(tuple(r) for r in cells)).level(lk, im) == new
        return
    with pytest.raises(InvalidInput) as refused:
        RiskMatrix(tuple(tuple(r) for r in cells))
    pointers = {e.pointer for e in refused.value.field_errors}
    assert all(e.reason == "matrix_not_monotone" for e in refused.value.field_errors)
    assert f"/cells/{lk - 1}/{im - 1}" in pointers or any(
        f"/cells/{fl - 1}/{fi - 1}" in pointers for fl, fi in ((lk + 1, im), (lk, im + 1)))


def test_wrong_shapes_and_labels_are_refused() -> None:
    for data in ({"cells": [["low"] * 5] * 4}, {"cells": [["low"] * 4] * 5}, {},
                 {"cells": [["severe"] * 5] * 5}):
        with pytest.raises(InvalidInput):
            RiskMatrix.from_dict(data)
