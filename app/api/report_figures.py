"""Report figures as the API shows them (``app.domain.reports.figures``): the same dict
for JSON and CSV, with the wording in English and Chinese beside each figure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.domain.reports.figures import Figure
from app.domain.reports.labels import label


def figure_bodies(figures: Iterable[Figure]) -> list[dict[str, Any]]:
    bodies = []
    for f in figures:
        en, zh = label(f.section, f.metric)
        bodies.append({
            "section": f.section, "key": f.key, "metric": f.metric, "value": f.value,
            "unit": f.unit.value, "n": f.n, "flag": f.flag,
            "interval": None if f.interval is None else {"low": f.interval.low,
                                                         "high": f.interval.high},
            "label": {"en": en, "zh-CN": zh}})
    return bodies
