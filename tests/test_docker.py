"""The image as the Dockerfile builds it, read without building it (CI has no Docker
daemon): production mode by default, two stages, the final one running as an
unprivileged user, every run-time package pinned by requirements.lock, no editable
install (issue 13 item 6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts.lock_dependencies import closure, normalized, runtime_requirements

ROOT = Path(__file__).resolve().parents[1]
INSTRUCTION = re.compile(r"^([A-Z]+)\s+(.*)$")


def _stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions (continuation lines joined), stage by stage."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        found = INSTRUCTION.match(line.strip())
        if found is None or line.lstrip().startswith("#"):
            continue
        if found[1] == "FROM":
            stages.append([])
        stages[-1].append((found[1], found[2]))
    return stages


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[normalized(name)] = version
    return pins


def test_the_image_is_built_in_two_stages_and_runs_unprivileged() -> None:
    stages = _stages()
    assert len(stages) >= 2
    final = stages[-1]
    users = [value for kind, value in final if kind == "USER"]
    assert users and users[-1] not in ("root", "0"), users
    assert any(kind == "COPY" and value.startswith("--from=") for kind, value in final)
    runs = " ".join(value for stage in stages for kind, value in stage if kind == "RUN")
    assert not re.search(r"pip install[^&]*(-e|--editable)\b", runs), runs
    assert "requirements.lock" in runs


def test_the_image_defaults_to_production_mode() -> None:
    env = " ".join(value for kind, value in _stages()[-1] if kind == "ENV")
    assert re.search(r"\bACCORD_ENV=production\b", env), env
    assert "ACCORD_SIGNING_KEY" not in env  # never baked in


def test_the_lock_pins_every_run_time_dependency_at_a_version_they_allow() -> None:
    pins = _lock()
    assert all(re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", v) for v in pins.values()), pins
    needed = closure(runtime_requirements())
    assert sorted(set(needed) - set(pins)) == []


@pytest.mark.parametrize("requirement", runtime_requirements())
def test_each_pin_satisfies_pyproject(requirement: str) -> None:
    from packaging.requirements import Requirement

    parsed = Requirement(requirement)
    assert parsed.specifier.contains(_lock()[normalized(parsed.name)], prereleases=True)
