#!/usr/bin/env bash
# Stops the test servers that tests/peers/start.sh started (by their recorded pids only) and
# rewrites tests/peers/peers.env without them.
#
#   bash tests/peers/stop.sh              # every servers/*.sh
#   bash tests/peers/stop.sh rabbitmq     # only these
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mapfile -t names < <(server_names "$@")
mapfile -t failed < <(run_servers stop "${names[@]}")
write_peers_env

[ ${#failed[@]} -eq 0 ] || die "failed to stop: ${failed[*]}"
log "stopped ${names[*]}"
