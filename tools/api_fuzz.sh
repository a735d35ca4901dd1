#!/usr/bin/env bash
# Schemathesis over the node's own /openapi.json: every operation, every check, a bounded number
# of generated cases, against the real process (`deno task start`'s flags, ALLOW_PRIVATE_NETWORKS
# unset) on a fresh data folder, as the first admin after its password change.
# Fails (exit 1) when any answer is a 5xx; every other check's findings are printed and written
# to the report folder, and counted in the last line.
#   bash tools/api_fuzz.sh [--max-examples N] [--max-time SECONDS] [--seed N]
# Installs schemathesis from PyPI into a cached venv (~/.cache/event-router) on first use.
set -uo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=${SCHEMATHESIS_VERSION:-4.32.5}
CACHE=${EVENT_ROUTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/event-router}
VENV="$CACHE/schemathesis-venv-$ST_VERSION"
MAX_EXAMPLES=20
MAX_TIME=120
SEED=1
while [ $# -gt 0 ]; do
  case "$1" in
    --max-examples) MAX_EXAMPLES=$2; shift 2 ;;
    --max-time) MAX_TIME=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    *) echo "api_fuzz: unknown option $1" >&2; exit 2 ;;
  esac
done

say() { printf '[api_fuzz] %s\n' "$*" >&2; }

if [ ! -f "$VENV/.installed" ]; then
  say "installing schemathesis==$ST_VERSION into $VENV (first run only)"
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  { python3 -m venv "$VENV" &&
    "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$ST_VERSION"; } ||
    { say "could not install schemathesis (python3-venv and PyPI needed)"; exit 1; }
  touch "$VENV/.installed"
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
report=${API_FUZZ_REPORT:-$work/report}
mkdir -p "$report"

# The real process, as `deno task start` runs it (the same permission flags), on its own folder.
env -u ALLOW_PRIVATE_NETWORKS DATA_DIR="$work/data" PORT="$port" HOST=127.0.0.1 LOG_LEVEL=warn \
  ./tools/deno run --unstable-kv --unstable-cron --allow-net --allow-read --allow-write \
  --allow-env --allow-sys --allow-ffi main.ts serve 2>"$work/router.log" >/dev/null &
router=$!
cleanup() {
  kill "$router" 2>/dev/null
  wait "$router" 2>/dev/null
  [ -n "${API_FUZZ_REPORT:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  curl -sf -o /dev/null "$url/health" && break
  kill -0 "$router" 2>/dev/null || { say "the router exited:"; tail -20 "$work/router.log" >&2; exit 1; }
  sleep 0.5
done
curl -sf -o /dev/null "$url/health" || { say "the router did not answer on $url"; exit 1; }

# The first admin: log in with the first-start password, change it, log in again.
json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
post() { curl -sf -X POST -H 'content-type: application/json' "$@"; }
first=$(post "$url/login" -d '{"username":"admin","password":"admin"}' | json token) ||
  { say "first login failed"; exit 1; }
post -H "authorization: Bearer $first" "$url/change-password" \
  -d '{"current_password":"admin","new_password":"fuzz-admin-password-1"}' >/dev/null ||
  { say "password change failed"; exit 1; }
token=$(post "$url/login" -d '{"username":"admin","password":"fuzz-admin-password-1"}' | json token) ||
  { say "login failed"; exit 1; }

# Operations that end the run's own session are left out: logout revokes the token, a password
# change ends every session of the user (both tested in tests/security/sessions_test.ts).
say "schemathesis $ST_VERSION on $url/openapi.json: all checks, at most $MAX_EXAMPLES cases per operation, ${MAX_TIME}s"
# From the scratch folder: schemathesis keeps a cache (.schemathesis/) in its working folder.
(cd "$work" && "$VENV/bin/st" run "$url/openapi.json" \
  --checks all \
  --max-examples "$MAX_EXAMPLES" \
  --max-time "$MAX_TIME" \
  --seed "$SEED" \
  --workers 2 \
  --request-timeout 10 \
  --exclude-path /logout --exclude-path /change-password \
  -H "Authorization: Bearer $token" \
  --report junit,ndjson --report-dir "$report" \
  --output-truncate true) >"$work/st.out" 2>&1
st_status=$?
cat "$work/st.out"

# A 5xx anywhere fails (ST101 "Server error", also on an undeclared content type), and so does
# a router that died under the run; other checks' findings are reported, not fatal.
summary=$(grep -E '^ *[0-9]+ generated' "$work/st.out" | tail -1 | sed 's/^ *//')
cases=${summary%% *}
if [ -z "$summary" ]; then
  say "FAILED: schemathesis did not run (exit $st_status, output above)"
  exit 1
fi
if ! kill -0 "$router" 2>/dev/null; then
  say "FAILED: the router died during the run; its log:"
  tail -40 "$work/router.log" >&2
  exit 1
fi
if grep -qE 'ST101|Server error' "$work/st.out"; then
  say "FAILED: answers with a 5xx (above); the router's log:"
  tail -40 "$work/router.log" >&2
  exit 1
fi
say "no 5xx in ${cases:-?} cases ($summary; schemathesis exit $st_status)"
exit 0
