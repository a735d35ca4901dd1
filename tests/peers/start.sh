#!/usr/bin/env bash
# Starts the real test servers on 127.0.0.1 and writes their settings to tests/peers/peers.env
# (read by tests/helpers/peers.ts).
#
#   bash tests/peers/start.sh                 # every servers/*.sh
#   bash tests/peers/start.sh redis kafka     # only these
#
# Each servers/<name>.sh takes start|stop. start installs what is missing, starts the server
# with its state in .run/<name>/, waits until it answers (bounded), records .run/<name>/pid and
# writes KEY=VALUE lines to .run/<name>.env; it is a no-op (still writing the env file) when the
# server already answers. stop stops only the pid that start recorded.
# Servers start in parallel (apt installs are serialised by a lock in lib.sh). Exits non-zero
# naming every server that failed; its log tail is printed above.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mapfile -t names < <(server_names "$@")
started=$SECONDS
mapfile -t failed < <(run_servers start "${names[@]}")
write_peers_env

if [ ${#failed[@]} -gt 0 ]; then
  die "failed to start: ${failed[*]} (after $((SECONDS - started))s)"
fi
log "started ${names[*]} in $((SECONDS - started))s; settings in $PEERS_DIR/peers.env"
