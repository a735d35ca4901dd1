#!/usr/bin/env bash
# Google's Pub/Sub test server (pstest, from the Go module proxy) for the integration tests.
#   pstest.sh start   build tests/peers/pstest into a cache dir if missing (keyed by the hash of
#                     its sources), start it on 127.0.0.1:$PSTEST_PORT (8085), wait until it
#                     answers a ListTopics call, write .run/pstest.env
#   pstest.sh stop    stop the server this script started (pid in .run/pstest/pid)
# Log: tests/peers/.run/pstest/log. A server already answering on the port is reused.
set -euo pipefail

NAME=pstest
HOST=127.0.0.1
PORT=${PSTEST_PORT:-8085}
PROJECT=test-project
WAIT_SECONDS=${PSTEST_WAIT_SECONDS:-30}

PEERS=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=$PEERS/pstest
RUN_ROOT=$PEERS/.run
RUN=$RUN_ROOT/$NAME
ENV_FILE=$RUN_ROOT/$NAME.env
CACHE=${EVENT_ROUTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/event-router}/pstest
ADDR=$HOST:$PORT

log() { echo "[$NAME] $*" >&2; }
die() { log "error: $*"; exit 1; }

# The binary for the current sources; rebuilt when main.go, go.mod or go.sum change.
HASH=$(cat "$SRC/main.go" "$SRC/go.mod" "$SRC/go.sum" | sha256sum | cut -c1-16)
BIN=$CACHE/pstest-$HASH

build() {
  if [[ -x $BIN ]]; then return; fi
  command -v go >/dev/null || die "go is missing (apt-get install golang-go, or a Go toolchain on PATH)"
  log "building $SRC into $BIN (downloads modules on first build)"
  mkdir -p "$CACHE"
  (cd "$SRC" && go build -trimpath -o "$BIN.tmp.$$" .) || { rm -f "$BIN.tmp.$$"; die "go build in $SRC failed"; }
  mv "$BIN.tmp.$$" "$BIN"
}

answering() {
  [[ -x $BIN ]] || return 1
  "$BIN" -probe "$ADDR" -project "$PROJECT" 2>/dev/null
}

write_env() {
  mkdir -p "$RUN_ROOT"
  cat >"$ENV_FILE.tmp" <<ENV
PUBSUB_EMULATOR_HOST=$ADDR
PUBSUB_PROJECT_ID=$PROJECT
ENV
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

start() {
  build
  if answering; then
    log "already answering on $ADDR; reusing it"
    write_env
    return
  fi
  mkdir -p "$RUN"
  if [[ -f $RUN/pid ]] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; then
    die "pid $(cat "$RUN/pid") from an earlier start is alive but $ADDR does not answer; run '$0 stop'"
  fi
  log "starting pstest on $ADDR"
  (cd "$RUN" && exec setsid "$BIN" -addr "$ADDR" >"$RUN/log" 2>&1 </dev/null) &
  local pid=$!
  echo "$pid" >"$RUN/pid"
  local deadline=$((SECONDS + WAIT_SECONDS))
  until answering; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$RUN/pid"
      log "pstest exited; last lines of $RUN/log:"; tail -n 30 "$RUN/log" >&2 || true
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "pstest did not answer on $ADDR within ${WAIT_SECONDS}s; last lines of $RUN/log:"
      tail -n 30 "$RUN/log" >&2 || true
      kill "$pid" 2>/dev/null || true
      rm -f "$RUN/pid"
      exit 1
    fi
    sleep 0.1
  done
  write_env
  log "ready on $ADDR (pid $pid)"
}

stop() {
  local pidfile=$RUN/pid
  if [[ ! -f $pidfile ]]; then log "not started by this script; nothing to stop"; return; fi
  local pid
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then log "pid $pid ignored TERM; sending KILL"; kill -9 "$pid" 2>/dev/null || true; fi
    log "stopped pid $pid"
  else
    log "pid $pid was not running"
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
