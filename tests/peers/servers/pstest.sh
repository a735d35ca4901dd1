#!/usr/bin/env bash
# Google's Pub/Sub test server (pstest, Go module proxy) for tests, on 127.0.0.1:8085.
#   start: build tests/peers/pstest into ~/.cache/event-router/pstest if missing (the binary
#          is keyed by a hash of its sources), start it, wait until it answers a ListTopics
#          call, write .run/pstest.env
#   stop:  stop the pid that start recorded in .run/pstest/pid
set -euo pipefail
PEER_NAME=pstest
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
NAME=$(peer_name pstest)

HOST=127.0.0.1
PORT=${PSTEST_PORT:-8085}
ADDR="$HOST:$PORT"
PROJECT=test-project
SRC="$PEERS_DIR/pstest"
DIR="$RUN_DIR/$NAME"
CACHE=${EVENT_ROUTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/event-router}/pstest
HASH=$(cat "$SRC/main.go" "$SRC/go.mod" "$SRC/go.sum" | sha256sum | cut -c1-16)
BIN="$CACHE/pstest-$HASH"

build() {
  [ -x "$BIN" ] && return 0
  need_cmd go "install a Go toolchain (apt-get install golang-go, or go.dev's) and put it on PATH"
  log "building $SRC into $BIN (first start only; downloads modules)"
  mkdir -p "$CACHE" "$DIR"
  (cd "$SRC" && go build -trimpath -o "$BIN.tmp.$$" .) >"$DIR/build.log" 2>&1 || {
    rm -f "$BIN.tmp.$$"
    log_tail "$DIR/build.log"
    die "go build in $SRC failed"
  }
  mv "$BIN.tmp.$$" "$BIN"
  # Binaries of older sources are no longer needed (a running one keeps its inode).
  find "$CACHE" -maxdepth 1 -name 'pstest-*' ! -name "$(basename "$BIN")" ! -name '*.tmp.*' -delete
}

# A real gRPC ListTopics call (the binary's -probe mode), not just an open port.
answers() { "$BIN" -probe "$ADDR" -project "$PROJECT" 2>/dev/null; }

env_out() { write_env "$NAME" "PUBSUB_EMULATOR_HOST=$ADDR" "PUBSUB_PROJECT_ID=$PROJECT"; }

do_start() {
  build
  if answers; then
    log "already answering on $ADDR"
    env_out
    return 0
  fi
  mkdir -p "$DIR"
  if pid=$(pid_of "$NAME"); then
    die "recorded pid $pid is alive but $ADDR does not answer; run $0 stop"
  fi
  spawn "$DIR/pstest.log" "$BIN" -addr "$ADDR" >"$DIR/pid"
  if ! wait_until 30 "pstest on $ADDR" answers; then
    log_tail "$DIR/pstest.log"
    stop_recorded "$NAME" 5
    die "pstest did not start"
  fi
  log "up on $ADDR (pid $(cat "$DIR/pid"))"
  env_out
}

do_stop() { stop_recorded "$NAME" 10; }

server_main "$@"
