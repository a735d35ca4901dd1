#!/usr/bin/env bash
# RabbitMQ for tests: Debian's rabbitmq-server run as our own process (no systemd), AMQP on
# 127.0.0.1:5672, node state and logs under tests/peers/.run/rabbitmq/. guest/guest works
# because it connects over loopback. Quorum queues work on this single node.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
PEER_NAME=rabbitmq
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
NAME=$(peer_name rabbitmq)

HOST=127.0.0.1
PORT=${RABBITMQ_PORT:-5672}
DIST_PORT=$((PORT + 20000))
NODE=${RABBITMQ_TEST_NODENAME:-event-router-${PEER_INSTANCE:-test}@localhost}
DIR="$RUN_DIR/$NAME"
RMQ_BIN=/usr/lib/rabbitmq/bin

# Everything the server and its CLI need to find this node and only this node.
node_env() {
  export HOME="$DIR" # the Erlang cookie lives here, shared by server and rabbitmqctl
  export RABBITMQ_NODENAME="$NODE"
  export RABBITMQ_CONFIG_FILE="$DIR/rabbitmq.conf"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$DIR/advanced.config"
  export RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins"
  export RABBITMQ_MNESIA_BASE="$DIR/mnesia"
  export RABBITMQ_LOG_BASE="$DIR/log"
  export RABBITMQ_PID_FILE="$DIR/rabbitmq.pid"
  export RABBITMQ_NODE_IP_ADDRESS="$HOST"
  export RABBITMQ_NODE_PORT="$PORT"
  export RABBITMQ_DIST_PORT="$DIST_PORT"
  export ERL_EPMD_ADDRESS=127.0.0.1 # epmd on loopback only
}

ctl() { node_env && timeout 60 "$RMQ_BIN/rabbitmqctl" -n "$NODE" "$@"; }

# AMQP answers: the server replies to the protocol header with a Connection.Start frame.
answers() {
  timeout 3 bash -c "exec 3<>/dev/tcp/$HOST/$PORT && printf 'AMQP\x00\x00\x09\x01' >&3 \
    && head -c 1 <&3 | od -An -tx1 | grep -q 01" 2>/dev/null
}

env_out() { write_env "$NAME" "RABBITMQ_URL=amqp://guest:guest@$HOST:$PORT/"; }

do_start() {
  apt_install rabbitmq-server
  if answers; then
    log "already answering on $HOST:$PORT"
    env_out
    return 0
  fi
  mkdir -p "$DIR/log" "$DIR/mnesia"
  cat >"$DIR/rabbitmq.conf" <<CONF
listeners.tcp.default = $HOST:$PORT
loopback_users.guest = true
log.file.level = info
log.console = false
vm_memory_high_watermark.relative = 0.2
disk_free_limit.absolute = 50MB
CONF
  # Erlang distribution (used by rabbitmqctl) on loopback only as well.
  echo "[{kernel, [{inet_dist_use_interface, {127,0,0,1}}]}]." >"$DIR/advanced.config"
  : >"$DIR/rabbitmq-env.conf"
  echo "[]." >"$DIR/enabled_plugins"
  node_env
  spawn "$DIR/log/startup.log" "$RMQ_BIN/rabbitmq-server" >"$DIR/pid"
  rm -f "$RABBITMQ_PID_FILE"
  if ! wait_up 90 "AMQP on $HOST:$PORT" "$(cat "$DIR/pid")" answers; then
    log_tail "$DIR/log/startup.log"
    log_tail "$DIR/log/$NODE.log"
    die "rabbitmq did not start"
  fi
  # The AMQP listener opens last in the boot sequence, so answering means ready.
  # Record the Erlang VM itself (the launcher is a shell that waits on it): SIGTERM to the VM
  # is a clean shutdown.
  if [ -s "$RABBITMQ_PID_FILE" ]; then cat "$RABBITMQ_PID_FILE" >"$DIR/pid"; fi
  # Quorum queues need the quorum_queue feature flag (on by default for a new node); enable
  # every stable flag once, on the node's first boot. Flags persist in its database.
  if [ ! -f "$DIR/flags.done" ]; then
    if ctl enable_feature_flag all >/dev/null 2>&1; then
      touch "$DIR/flags.done"
    else
      warn "could not enable feature flags"
    fi
  fi
  log "up on $HOST:$PORT (pid $(cat "$DIR/pid"), node $NODE)"
  env_out
}

do_stop() { stop_recorded "$NAME" 30; }

server_main "$@"
