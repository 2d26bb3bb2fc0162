"""The risk matrix maps (likelihood 1–5, impact 1–5) to a level. An administrator may set
any cell, but never so that a cell is lower than a cell with lower-or-equal likelihood and
impact (invariant): a riskier situation is never rated as less severe."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from app.domain.common.errors import FieldError, InvalidInput

SCALE = range(1, 6)


class RiskLevel(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, label: str) -> RiskLevel:
        return cls[label.upper()]


def default_level(likelihood: int, impact: int) -> RiskLevel:
    """Domain §7 default, by product: ≤ 4 low, 5–9 medium, 10–16 high, ≥ 20 critical."""
    product = likelihood * impact
    if product <= 4:
        return RiskLevel.LOW
    if product <= 9:
        return RiskLevel.MEDIUM
    if product <= 16:
        return RiskLevel.HIGH
    return RiskLevel.CRITICAL


@dataclass(frozen=True)
class RiskMatrix:
    """``cells[likelihood - 1][impact - 1]``."""

    cells: tuple[tuple[RiskLevel, ...], ...]

    def __post_init__(self) -> None:
        if len(self.cells) != 5 or any(len(row) != 5 for row in self.cells):
            raise InvalidInput([FieldError("/cells", "matrix_shape")])
        offending = self.violations()
        if offending:
            raise InvalidInput([
                FieldError(f"/cells/{lk - 1}/{im - 1}", "matrix_not_monotone",
                           {"likelihood": lk, "impact": im, "lower_than": f"{ol}×{oi}"})
                for lk, im, ol, oi in offending])

    def violations(self) -> list[tuple[int, int, int, int]]:
        """Cells (l, i) rated below a neighbour with lower likelihood or impact, as
        (l, i, neighbour l, neighbour i); checking direct neighbours suffices by
        transitivity."""
        found = []
        for lk in SCALE:
            for im in SCALE:
                here = self.level(lk, im)
                for nl, ni in ((lk - 1, im), (lk, im - 1)):
                    if nl >= 1 and ni >= 1 and self.level(nl, ni) > here:
                        found.append((lk, im, nl, ni))
        return found

    def level(self, likelihood: int, impact: int) -> RiskLevel:
        if likelihood not in SCALE or impact not in SCALE:
            raise InvalidInput([FieldError("/likelihood", "scale_1_to_5")])
        return self.cells[likelihood - 1][impact - 1]

    @classmethod
    def default(cls) -> RiskMatrix:
        return cls(tuple(tuple(default_level(lk, im) for im in SCALE) for lk in SCALE))

    def to_dict(self) -> dict[str, Any]:
        return {"cells": [[c.label for c in row] for row in self.cells]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RiskMatrix:
        try:
            return cls(tuple(tuple(RiskLevel.parse(c) for c in row) for row in data["cells"]))
        except (KeyError, TypeError) as exc:
            raise InvalidInput([FieldError("/cells", "matrix_shape")]) from exc
