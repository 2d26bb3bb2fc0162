"""The client generators the contract test runs, installed on first use into ``.tools/``
(git-ignored; one folder per pinned version, so a new pin installs afresh).

openapi-python-client gets a virtualenv of its own: it pins ``httpx<0.29`` and
``typer<0.28``, which the app's environment cannot share. openapi-typescript comes from
npm. ``python -m tests.contract_tools`` installs both (``.ci/run`` does, before the suite).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".tools"
PYTHON_GENERATOR = ("openapi-python-client", "0.29.1")
TYPESCRIPT_GENERATOR = ("openapi-typescript", "7.13.0")
TYPESCRIPT = ("typescript", "5.9.3")


def _install(*command: str | Path) -> None:
    subprocess.run([str(part) for part in command], check=True)  # noqa: S603 - pinned tools


def python_generator() -> Path:
    """``openapi-python-client``, in its own virtualenv."""
    name, version = PYTHON_GENERATOR
    venv = TOOLS / f"{name}-{version}"
    program = venv / "bin" / name
    if not program.exists():
        _install(sys.executable, "-m", "venv", "--clear", venv)
        _install(venv / "bin" / "pip", "install", "-q", f"{name}=={version}")
    return program


def typescript_generator() -> tuple[Path, Path]:
    """``openapi-typescript`` and the ``tsc`` that checks what it writes."""
    (name, version), (tsc, tsc_version) = TYPESCRIPT_GENERATOR, TYPESCRIPT
    prefix = TOOLS / f"{name}-{version}"
    bin_dir = prefix / "node_modules" / ".bin"
    if not (bin_dir / name).exists() or not (bin_dir / "tsc").exists():
        prefix.mkdir(parents=True, exist_ok=True)
        _install(shutil.which("npm") or "npm", "install", "--prefix", prefix, "--no-audit",
                 "--no-fund", "--loglevel=error", f"{name}@{version}", f"{tsc}@{tsc_version}")
    return bin_dir / name, bin_dir / "tsc"


if __name__ == "__main__":
    print(python_generator(), *typescript_generator(), sep="\n")
