#!/usr/bin/env bash
# Compiles the full node (deno task compile; DENORT_BIN gives deno its runtime offline), copies
# the binary alone into an empty folder outside the checkout, starts it there and waits for
# /health. Exit 0 only if the binary served and stopped cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/deno task compile
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
cp dist/event-router "$dir/"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$dir" && PORT=$port HOST=127.0.0.1 DATABASE_PATH="$dir/data/event-router.db" LOG_LEVEL=warn \
  exec ./event-router serve) 2>"$dir/log" &
pid=$!
for _ in $(seq 1 150); do
  if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
    kill -TERM "$pid"
    wait "$pid"
    echo "binary: served /health from $dir and stopped cleanly"
    exit 0
  fi
  sleep 0.2
done
echo "binary: /health never answered; log:"
cat "$dir/log"
exit 1
