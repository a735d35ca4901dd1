#!/usr/bin/env bash
# Stops the test servers that tests/peers/start.sh started (by their recorded pids only) and
# rewrites tests/peers/peers.env without them.
#
#   bash tests/peers/stop.sh              # every servers/*.sh
#   bash tests/peers/stop.sh rabbitmq     # only these
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in "$PEERS_DIR"/servers/*.sh; do names+=("$(basename "$f" .sh)"); done
fi

declare -A pids=()
for n in "${names[@]}"; do
  script="$PEERS_DIR/servers/$n.sh"
  [ -f "$script" ] || die "no server script $script"
  bash "$script" stop &
  pids[$n]=$!
done
failed=()
for n in "${names[@]}"; do
  wait "${pids[$n]}" || failed+=("$n")
done

{
  echo "# written by tests/peers/start.sh; do not edit"
  for f in "$RUN_DIR"/*.env; do
    [ -f "$f" ] && cat "$f"
  done
} >"$PEERS_DIR/peers.env.tmp"
mv "$PEERS_DIR/peers.env.tmp" "$PEERS_DIR/peers.env"

[ ${#failed[@]} -eq 0 ] || die "failed to stop: ${failed[*]}"
log "stopped ${names[*]}"
