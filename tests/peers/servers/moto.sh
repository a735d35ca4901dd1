#!/usr/bin/env bash
# moto's server (AWS SQS/SNS and more) for the integration tests.
#   moto.sh start   install moto[server] into a cached venv if missing, start it on
#                   127.0.0.1:$MOTO_PORT (4566), wait until it answers, write .run/moto.env
#   moto.sh stop    stop the server this script started (pid in .run/moto/pid)
# Data and log: tests/peers/.run/moto/. A server already answering on the port is reused.
set -euo pipefail

NAME=moto
MOTO_VERSION=${MOTO_VERSION:-5.2.5}
HOST=127.0.0.1
PORT=${MOTO_PORT:-4566}
WAIT_SECONDS=${MOTO_WAIT_SECONDS:-60}

PEERS=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_ROOT=$PEERS/.run
RUN=$RUN_ROOT/$NAME
ENV_FILE=$RUN_ROOT/$NAME.env
CACHE=${EVENT_ROUTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/event-router}
VENV=$CACHE/moto-venv-$MOTO_VERSION
URL=http://$HOST:$PORT

log() { echo "[$NAME] $*" >&2; }
die() { log "error: $*"; exit 1; }

# True when moto answers an SQS ListQueues call (not just an open port).
answering() {
  local code
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    --data 'Action=ListQueues&Version=2012-11-05' "$URL/" 2>/dev/null) || return 1
  [[ $code == 200 ]]
}

write_env() {
  mkdir -p "$RUN_ROOT"
  cat >"$ENV_FILE.tmp" <<ENV
AWS_ENDPOINT_URL=$URL
SQS_ENDPOINT=$URL
SNS_ENDPOINT=$URL
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=test
AWS_SECRET_ACCESS_KEY=test
ENV
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

install() {
  # The stamp is written last, so an interrupted install is redone from scratch.
  if [[ -f $VENV/.installed ]]; then return; fi
  command -v python3 >/dev/null || die "python3 is missing (apt-get install python3 python3-venv)"
  log "installing moto[server]==$MOTO_VERSION into $VENV"
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  python3 -m venv "$VENV" || die "python3 -m venv $VENV failed (apt-get install python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION" \
    || die "pip install moto[server]==$MOTO_VERSION failed"
  touch "$VENV/.installed"
}

start() {
  if answering; then
    log "already answering on $URL; reusing it"
    write_env
    return
  fi
  install
  mkdir -p "$RUN"
  if [[ -f $RUN/pid ]] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; then
    die "pid $(cat "$RUN/pid") from an earlier start is alive but $URL does not answer; run '$0 stop'"
  fi
  log "starting moto_server on $URL"
  (cd "$RUN" && exec setsid "$VENV/bin/moto_server" -H "$HOST" -p "$PORT" >"$RUN/log" 2>&1 </dev/null) &
  local pid=$!
  echo "$pid" >"$RUN/pid"
  local deadline=$((SECONDS + WAIT_SECONDS))
  until answering; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$RUN/pid"
      log "moto_server exited; last lines of $RUN/log:"; tail -n 30 "$RUN/log" >&2 || true
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "moto_server did not answer on $URL within ${WAIT_SECONDS}s; last lines of $RUN/log:"
      tail -n 30 "$RUN/log" >&2 || true
      kill "$pid" 2>/dev/null || true
      rm -f "$RUN/pid"
      exit 1
    fi
    sleep 0.2
  done
  write_env
  log "ready on $URL (pid $pid)"
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
