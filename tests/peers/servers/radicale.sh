#!/usr/bin/env bash
# Radicale 3 (CalDAV and CardDAV) for tests: Debian's python3-radicale with a private config
# file on 127.0.0.1:5232, one htpasswd test user, collections under tests/peers/.run/radicale/.
#   start: install if missing, start, wait until the test user gets a PROPFIND answer
#   stop:  stop the pid that start recorded
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
PEER_NAME=radicale
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
NAME=$(peer_name radicale)

HOST=127.0.0.1
PORT=${DAV_PORT:-5232}
URL="http://$HOST:$PORT/"
USER_NAME=router
USER_PASS=router-dav-secret
DIR="$RUN_DIR/$NAME"
CONF="$DIR/config"
# Debian's interpreter: python3-radicale is installed for it, not for a pyenv python on PATH.
PY=/usr/bin/python3

# A real authenticated WebDAV answer (207 Multi-Status), not just an open port.
answers() {
  [ "$(curl -s -o /dev/null -m 3 -w '%{http_code}' -X PROPFIND -H 'Depth: 0' \
    -u "$USER_NAME:$USER_PASS" "$URL$USER_NAME/" 2>/dev/null)" = "207" ]
}

env_out() {
  write_env "$NAME" "DAV_URL=$URL" "DAV_USER=$USER_NAME" "DAV_PASSWORD=$USER_PASS"
}

do_start() {
  apt_install python3-radicale curl
  if answers; then
    log "already answering on $URL"
    env_out
    return 0
  fi
  if pid=$(pid_of "$NAME"); then
    die "recorded pid $pid is alive but $URL does not answer; run $0 stop"
  fi
  mkdir -p "$DIR/collections"
  printf '%s:%s\n' "$USER_NAME" "$USER_PASS" >"$DIR/users"
  cat >"$CONF" <<EOF
# written by tests/peers/servers/radicale.sh; do not edit
[server]
hosts = $HOST:$PORT
[auth]
type = htpasswd
htpasswd_filename = $DIR/users
htpasswd_encryption = plain
# Tests log in often; Radicale's default 1 s delay after a failed login is kept.
[rights]
type = owner_only
[storage]
filesystem_folder = $DIR/collections
[logging]
level = warning
EOF
  spawn "$DIR/radicale.log" "$PY" -m radicale --config "$CONF" >"$DIR/pid"
  if ! wait_up 30 "radicale on $URL" "$(cat "$DIR/pid")" answers; then
    log_tail "$DIR/radicale.log"
    die "radicale did not start"
  fi
  log "up on $URL (pid $(cat "$DIR/pid"))"
  env_out
}

do_stop() { stop_recorded "$NAME" 10; }

server_main "$@"
