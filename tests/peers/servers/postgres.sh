#!/usr/bin/env bash
# PostgreSQL for tests: Debian's server binaries, a cluster initdb'd under
# tests/peers/.run/postgres/ as the postgres user, listening on 127.0.0.1:5432 only.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
PEER_NAME=postgres
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
NAME=$(peer_name postgres)

HOST=127.0.0.1
PORT=${POSTGRES_PORT:-5432}
DB=event_router
PGUSER_NAME=postgres
PGPASS=postgres
DIR="$RUN_DIR/$NAME"

# True when every folder from / down to $1 lets others in (o+x).
traversable() {
  local p=$1
  while [ "$p" != "/" ] && [ -n "$p" ]; do
    [ $(( 8#$(stat -c %a "$p") & 1 )) -eq 1 ] || return 1
    p=$(dirname "$p")
  done
}

# The cluster runs as the postgres user, who cannot enter a checkout under a private folder
# (a clone under /root, say): then its data and socket live under /var/tmp, in a folder
# named after the checkout. The pid and the log stay in $DIR either way.
PGHOME="$DIR"
if ! traversable "$PEERS_DIR"; then
  PGHOME="/var/tmp/event-router-peers-$(printf %s "$RUN_DIR" | md5sum | cut -c1-12)/$NAME"
fi
DATA="$PGHOME/data"
SOCK="$PGHOME/sock"

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
  echo "$d"
}

as_pg() { runuser -u postgres -- "$@"; }

answers() { pg_isready -q -t 3 -h "$HOST" -p "$PORT"; }

env_out() {
  write_env "$NAME" \
    "POSTGRES_URL=postgres://$PGUSER_NAME:$PGPASS@$HOST:$PORT/$DB" \
    "POSTGRES_HOST=$HOST" "POSTGRES_PORT=$PORT" "POSTGRES_USER=$PGUSER_NAME" \
    "POSTGRES_PASSWORD=$PGPASS" "POSTGRES_DB=$DB"
}

ensure_db() {
  local exists
  exists=$(PGPASSWORD=$PGPASS psql -h "$HOST" -p "$PORT" -U "$PGUSER_NAME" -d postgres -tAc \
    "select 1 from pg_database where datname = '$DB'") || die "cannot query $HOST:$PORT as $PGUSER_NAME"
  if [ "$exists" != "1" ]; then
    PGPASSWORD=$PGPASS psql -q -h "$HOST" -p "$PORT" -U "$PGUSER_NAME" -d postgres \
      -c "create database $DB" || die "cannot create database $DB"
    log "created database $DB"
  fi
}

do_start() {
  apt_install postgresql postgresql-client
  if answers; then
    log "already answering on $HOST:$PORT"
    ensure_db
    env_out
    return 0
  fi
  local bin
  bin=$(bindir)
  mkdir -p "$DIR" "$PGHOME" "$SOCK"
  chown postgres:postgres "$DIR" "$PGHOME" "$SOCK"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    log "initdb in $DATA"
    rm -rf "$DATA"
    local pw="$PGHOME/pwfile"
    echo "$PGPASS" >"$pw"
    chown postgres:postgres "$pw"
    as_pg "$bin/initdb" -D "$DATA" -U "$PGUSER_NAME" --pwfile="$pw" --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 || {
      log_tail "$DIR/initdb.log"
      die "initdb failed"
    }
    rm -f "$pw"
  fi
  # Run the postmaster ourselves (no systemd, no pg_ctlcluster); the log goes to .run.
  touch "$DIR/postgres.log" && chown postgres:postgres "$DIR/postgres.log"
  spawn "$DIR/postgres.log" runuser -u postgres -- "$bin/postgres" -D "$DATA" \
    -c listen_addresses="$HOST" -c port="$PORT" -c unix_socket_directories="$SOCK" \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
    >"$DIR/launcher.pid"
  if ! wait_up 30 "postgres on $HOST:$PORT" "$(cat "$DIR/launcher.pid")" answers; then
    log_tail "$DIR/postgres.log"
    die "postgres did not start"
  fi
  # The postmaster's own pid (runuser may sit in between): first line of postmaster.pid.
  head -n 1 "$DATA/postmaster.pid" >"$DIR/pid"
  log "up on $HOST:$PORT (pid $(cat "$DIR/pid"))"
  ensure_db
  env_out
}

# SIGINT is PostgreSQL's fast shutdown: disconnect clients, checkpoint, exit.
do_stop() {
  stop_recorded "$NAME" 30 INT
  rm -f "$DIR/launcher.pid"
}

server_main "$@"
