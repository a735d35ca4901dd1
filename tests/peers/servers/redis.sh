#!/usr/bin/env bash
# Redis for tests: Debian's redis-server on 127.0.0.1:6379, state in tests/peers/.run/redis/.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
PEER_NAME=redis
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
NAME=$(peer_name redis)

HOST=127.0.0.1
PORT=${REDIS_PORT:-6379}
DIR="$RUN_DIR/$NAME"

answers() { [ "$(timeout 2 redis-cli -h "$HOST" -p "$PORT" ping 2>/dev/null)" = "PONG" ]; }

env_out() {
  write_env "$NAME" "REDIS_URL=redis://$HOST:$PORT" "REDIS_ADDRESS=$HOST:$PORT"
}

do_start() {
  apt_install redis-server redis-tools
  if answers; then
    log "already answering on $HOST:$PORT"
    env_out
    return 0
  fi
  mkdir -p "$DIR"
  # --daemonize no: we own the process and record its pid ourselves.
  spawn "$DIR/redis.log" redis-server --bind "$HOST" --port "$PORT" --dir "$DIR" --daemonize no \
    --save "" --appendonly no --protected-mode yes --logfile "$DIR/redis.log" >"$DIR/pid"
  if ! wait_up 20 "redis PING on $HOST:$PORT" "$(cat "$DIR/pid")" answers; then
    log_tail "$DIR/redis.log"
    die "redis did not start"
  fi
  log "up on $HOST:$PORT (pid $(cat "$DIR/pid"))"
  env_out
}

do_stop() { stop_recorded "$NAME" 10; }

server_main "$@"
