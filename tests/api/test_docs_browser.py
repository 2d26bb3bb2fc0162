"""A real browser renders /docs and /redoc from the service alone (no other host
resolves): runs scripts/check_docs_offline.py, which starts ``accord serve`` itself."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check_docs_offline.py"
CHROMIUM = Path("/usr/bin/chromium")

# Also the cross-origin check's (test_cors_browser.py).
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's Chromium is not installed (apt-get install chromium): "
           "the browser checks did not run")
pytestmark = needs_chromium


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_swagger_ui_and_redoc_render_offline_in_chromium(tmp_path: Path) -> None:
    docs, redoc = tmp_path / "docs.png", tmp_path / "redoc.png"
    result = subprocess.run(  # noqa: S603
        [sys.executable, str(SCRIPT), "--screenshot", str(docs), "--redoc-screenshot",
         str(redoc)], capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "/docs: /api/v1/me" in result.stdout and "btn authorize" in result.stdout
    assert "/redoc: Accord" in result.stdout
    for shot in (docs, redoc):
        width, height = _png_size(shot)
        assert width >= 800 and height >= 600, (shot, width, height)
        assert shot.stat().st_size > 20_000, "the screenshot looks blank"
