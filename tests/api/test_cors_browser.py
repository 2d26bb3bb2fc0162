"""A browser on another origin really can call the API (issue 13 item 5): headless
Chromium runs scripts/check_cors_browser.py's page from an allowed origin and from one
that is not, against ``accord serve``."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.api.test_docs_browser import ROOT, needs_chromium

SCRIPT = ROOT / "scripts" / "check_cors_browser.py"
pytestmark = needs_chromium


def test_a_page_on_an_allowed_origin_calls_the_api_and_another_origin_is_blocked() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True,  # noqa: S603
                            text=True, timeout=300, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = {line.split(" ", 1)[0]: json.loads(line.split(" ", 1)[1])
            for line in result.stdout.splitlines() if line.startswith(("allowed ", "other "))}
    allowed = seen["allowed"]
    assert "error" not in allowed, allowed
    assert (allowed["token_status"], allowed["me_status"], allowed["created_status"]) == (
        200, 200, 201)
    assert allowed["username"] == "cors.admin"
    assert allowed["request_id"] == "cors-check-1"  # exposed: the browser may read it
    assert allowed["etag"] and allowed["etag"].startswith('"')
    assert allowed["location"].startswith("/api/v1/departments/")
    assert "Failed to fetch" in seen["other"].get("error", ""), seen["other"]
