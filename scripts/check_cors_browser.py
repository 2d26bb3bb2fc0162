"""A page on another origin calls the API from a real headless Chromium, as a single-page
app would: it signs in, reads /me (a preflighted request with Authorization) and creates
a department (JSON with Idempotency-Key), and reads the exposed ETag, X-Request-Id and
Location. The same page served from an origin that is not allowed must be blocked.

    python scripts/check_cors_browser.py

Starts ``accord serve`` (ACCORD_CORS_ORIGINS naming one origin) and two static pages on
other ports of 127.0.0.1 (two origins); prints what each page saw as JSON, one line per
origin, and exits non-zero when a check fails.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_docs_offline import (  # the sibling script's helpers
    CHROMIUM,
    CheckFailed,
    _accord,
    _chromium,
    _free_port,
    service,
)

USERNAME, PASSWORD = "cors.admin", "cors-check-password-2026"
PAGE = """<!doctype html><meta charset="utf-8"><title>spa</title><pre id="out">running</pre>
<script>
(async () => {
  const api = %(api)s, out = {};
  try {
    const token = await fetch(api + "/api/v1/auth/token", {method: "POST",
      body: new URLSearchParams({username: %(user)s, password: %(password)s})});
    out.token_status = token.status;
    const bearer = {Authorization: "Bearer " + (await token.json()).access_token};
    const me = await fetch(api + "/api/v1/me",
                           {headers: {...bearer, "X-Request-Id": "cors-check-1"}});
    out.me_status = me.status;
    out.etag = me.headers.get("ETag");
    out.request_id = me.headers.get("X-Request-Id");
    out.username = (await me.json()).username;
    const made = await fetch(api + "/api/v1/departments", {method: "POST",
      headers: {...bearer, "Content-Type": "application/json", "Idempotency-Key": "cors-1"},
      body: JSON.stringify({name: "跨域部门"})});
    out.created_status = made.status;
    out.location = made.headers.get("Location");
  } catch (error) {
    out.error = String(error);
  }
  document.getElementById("out").textContent = "RESULT" + JSON.stringify(out) + "END";
})();
</script>
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *_: Any) -> None:
        pass


@contextmanager
def static_site(folder: Path) -> Iterator[str]:
    """``folder`` served on a free port of 127.0.0.1: an origin of its own."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _seen(workdir: Path, page: str) -> dict[str, Any]:
    dom = _chromium(workdir, page, "--dump-dom")
    start, end = dom.find("RESULT"), dom.find("END", dom.find("RESULT"))
    if start < 0 or end < 0:
        raise CheckFailed(f"{page} did not finish its calls: {dom[-1500:]}")
    found: dict[str, Any] = json.loads(dom[start + len("RESULT"):end])
    return found


def _admin(workdir: Path) -> dict[str, str]:
    """The settings of a migrated database holding one admin."""
    env = {**os.environ, "ACCORD_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'docs.db'}",
           "ACCORD_ENV": "development", "ACCORD_LOG_LEVEL": "WARNING",
           "ACCORD_ADMIN_PASSWORD": PASSWORD}
    for command in (["migrate"], ["create-admin", "--username", USERNAME]):
        done = subprocess.run([_accord(), *command], env=env, capture_output=True,  # noqa: S603
                              text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise CheckFailed(f"accord {command[0]}: {done.stdout}{done.stderr}")
    return env


def check(workdir: Path) -> dict[str, dict[str, Any]]:
    _admin(workdir)
    allowed_dir, other_dir = workdir / "allowed", workdir / "other"
    with static_site(allowed_dir) as allowed, static_site(other_dir) as other, \
            service(workdir, ACCORD_CORS_ORIGINS=allowed) as api:
        for folder in (allowed_dir, other_dir):
            folder.mkdir()
            (folder / "index.html").write_text(PAGE % {
                "api": json.dumps(api), "user": json.dumps(USERNAME),
                "password": json.dumps(PASSWORD)}, encoding="utf-8")
        return {"allowed": _seen(workdir, f"{allowed}/index.html"),
                "other": _seen(workdir, f"{other}/index.html")}


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="accord-cors-") as tmp:
        try:
            for origin, seen in check(Path(tmp)).items():
                print(f"{origin} {json.dumps(seen, ensure_ascii=False)}")
        except CheckFailed as failure:
            print(f"FAILED: {failure}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
