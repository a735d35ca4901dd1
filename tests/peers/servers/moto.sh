#!/usr/bin/env bash
# moto's server (AWS SQS, SNS, ...) for tests, from PyPI, on 127.0.0.1:4566.
#   start: install moto[server] into a cached venv if missing (~/.cache/event-router), start
#          it, wait until it answers an SQS ListQueues call, write .run/moto.env
#   stop:  stop the pid that start recorded in .run/moto/pid
set -euo pipefail
PEER_NAME=moto
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
NAME=$(peer_name moto)

MOTO_VERSION=${MOTO_VERSION:-5.2.5}
HOST=127.0.0.1
PORT=${MOTO_PORT:-4566}
URL="http://$HOST:$PORT"
DIR="$RUN_DIR/$NAME"
CACHE=${EVENT_ROUTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/event-router}
VENV="$CACHE/moto-venv-$MOTO_VERSION"

# A real SQS call, not just an open port.
answers() {
  [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    --data 'Action=ListQueues&Version=2012-11-05' "$URL/" 2>/dev/null)" = "200" ]
}

env_out() {
  write_env "$NAME" "AWS_ENDPOINT_URL=$URL" "SQS_ENDPOINT=$URL" "SNS_ENDPOINT=$URL" \
    "AWS_REGION=us-east-1" "AWS_ACCESS_KEY_ID=test" "AWS_SECRET_ACCESS_KEY=test"
}

install_moto() {
  # The stamp is written last, so an interrupted install is redone from scratch.
  [ -f "$VENV/.installed" ] && return 0
  need_cmd python3 "apt-get install python3 python3-venv"
  need_cmd curl "apt-get install curl"
  log "installing moto[server]==$MOTO_VERSION into $VENV (first start only)"
  rm -rf "$VENV"
  mkdir -p "$CACHE" "$DIR"
  python3 -m venv "$VENV" >"$DIR/install.log" 2>&1 || {
    log_tail "$DIR/install.log"
    die "python3 -m venv $VENV failed (apt-get install python3-venv)"
  }
  "$VENV/bin/pip" install --disable-pip-version-check "moto[server]==$MOTO_VERSION" \
    >>"$DIR/install.log" 2>&1 || {
    log_tail "$DIR/install.log"
    die "pip install moto[server]==$MOTO_VERSION failed"
  }
  touch "$VENV/.installed"
}

do_start() {
  if answers; then
    log "already answering on $URL"
    env_out
    return 0
  fi
  install_moto
  mkdir -p "$DIR"
  if pid=$(pid_of "$NAME"); then
    die "recorded pid $pid is alive but $URL does not answer; run $0 stop"
  fi
  spawn "$DIR/moto.log" "$VENV/bin/moto_server" -H "$HOST" -p "$PORT" >"$DIR/pid"
  if ! wait_until 60 "moto on $URL" answers; then
    log_tail "$DIR/moto.log"
    stop_recorded "$NAME" 5
    die "moto did not start"
  fi
  log "up on $URL (pid $(cat "$DIR/pid"))"
  env_out
}

do_stop() { stop_recorded "$NAME" 10; }

server_main "$@"
