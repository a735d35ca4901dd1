#!/usr/bin/env bash
# Debian's chromium for the browser tests (tests/ui/browser_test.ts, playwright-core). Not a
# server: start installs it when missing, checks that it runs headless, and writes
# CHROMIUM_PATH; each test launches its own browser with a fresh profile. stop does nothing.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
PEER_NAME=chromium
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

BIN=/usr/bin/chromium

do_start() {
  apt_install chromium
  [ -x "$BIN" ] || die "$BIN is missing after installing Debian's chromium"
  local out profile ok=0
  profile=$(mktemp -d)
  out=$(timeout 60 "$BIN" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$profile" --dump-dom 'data:text/html,<p>ok</p>' 2>&1) || ok=$?
  rm -rf "$profile"
  if [ "$ok" -ne 0 ]; then
    log "$out"
    die "chromium did not run headless"
  fi
  grep -q '<p>ok</p>' <<<"$out" || die "chromium ran but rendered nothing"
  log "ready: $("$BIN" --version 2>/dev/null | head -1)"
  write_env chromium "CHROMIUM_PATH=$BIN"
}

do_stop() { rm -f "$RUN_DIR/chromium.env"; }

server_main "$@"
