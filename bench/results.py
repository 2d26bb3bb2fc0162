"""What one benchmark run measured (kept in a module of its own so that a run's
results.pickle can be loaded again: ``python -m bench.report RESULTS OUTPUT``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench import load
from bench.explain import Plan
from bench.openloop import OpenLoopResult
from bench.profile import Profile
from bench.seed import SeedReport


@dataclass
class Point:
    """One data set: its seed, plans and low-rate latencies."""

    label: str
    customers: int
    database: str
    url: str = ""
    seed: SeedReport | None = None
    plans: list[Plan] = field(default_factory=list)
    probe: dict[str, OpenLoopResult] = field(default_factory=dict)
    error: str | None = None


@dataclass
class MainRun:
    point: Point
    saturation: dict[tuple[str, str], load.Saturation] = field(default_factory=dict)
    half_max: dict[str, OpenLoopResult] = field(default_factory=dict)
    parity: dict[str, bool] = field(default_factory=dict)
    profiles: list[Profile] = field(default_factory=list)
    servers: dict[str, str] = field(default_factory=dict)
    load_during: list[str] = field(default_factory=list)
    breakdown: list[tuple[str, float]] = field(default_factory=list)
