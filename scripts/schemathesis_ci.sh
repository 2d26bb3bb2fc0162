#!/usr/bin/env bash
# Schemathesis against a running `accord serve` (a SQLite file of its own, an administrator
# signed in), bounded for CI: fails on any server error, undocumented status or header, wrong content
# type or body that breaks its schema. Examples, coverage, fuzzing and stateful phases
# (links inferred from Location headers) share FUZZ_MAX_TIME seconds. One worker: two
# threads of Hypothesis parsing lambda sources at once crash CPython 3.11's ast.parse.
#   scripts/schemathesis_ci.sh            (VENV=.venv by default)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PORT="${FUZZ_PORT:-18765}"
MAX_TIME="${FUZZ_MAX_TIME:-55}"
EXAMPLES="${FUZZ_EXAMPLES:-8}"
WORK="$(mktemp -d)"
PASSWORD="fuzz-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export ACCORD_DATABASE_URL="sqlite+aiosqlite:///$WORK/fuzz.db" ACCORD_LOG_LEVEL=CRITICAL
unset ACCORD_RATE_LIMIT_REQUESTS  # development: off, or the fuzzer meets 429s

SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

"$VENV/bin/accord" serve --port "$PORT" >"$WORK/serve.log" 2>&1 &  # migrates SQLite first
SERVER=$!
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
printf '%s\n' "$PASSWORD" | "$VENV/bin/accord" create-admin --username fuzz --password-stdin >/dev/null
TOKEN="$(curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/auth/token" \
  --data-urlencode username=fuzz --data-urlencode "password=$PASSWORD" \
  | "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"

"$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/openapi.json" \
  -H "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$EXAMPLES" --max-time "$MAX_TIME" --seed 2026 --workers 1 \
  --suppress-health-check all --warnings off --no-shrink
