#!/usr/bin/env bash
# A real OAuth2 authorization server for tests: oidc-provider (npm) run by Node on
# 127.0.0.1:9400 (tests/peers/oauth2/server.mjs; in-memory, so a restart forgets tokens).
#   start: npm-install oidc-provider into a cache folder if missing, start it, wait until its
#          discovery document answers, write .run/oauth2.env
#   stop:  stop the pid that start recorded
#
# Settings written (tests read them through tests/helpers/peers.ts):
#   OAUTH2_ISSUER, OAUTH2_TOKEN_URL, OAUTH2_INTROSPECTION_URL, OAUTH2_REVOCATION_URL,
#   OAUTH2_CLIENT_ID / OAUTH2_CLIENT_SECRET (client_secret_basic; client_credentials and
#   refresh_token grants), OAUTH2_POST_CLIENT_ID (same secret, client_secret_post),
#   OAUTH2_SHORT_CLIENT_ID (same secret, tokens live 32 s), OAUTH2_INTROSPECT_CLIENT_ID /
#   OAUTH2_INTROSPECT_CLIENT_SECRET (for a resource server such as Dovecot), OAUTH2_TEST_TOKENS_URL.
#
# A user's tokens (refresh token for the refresh-token grant, access token for XOAUTH2):
#   curl -s -X POST "$OAUTH2_TEST_TOKENS_URL" -H 'content-type: application/json' \
#     -d '{"sub":"alice","client_id":"er-test","scope":"openid offline_access email"}'
#   -> {"access_token","refresh_token","expires_in","token_type","scope"}
# Check one (what Dovecot's oauth2 passdb does; answers {"active":true,"sub":"alice",...}):
#   curl -s -u "$OAUTH2_INTROSPECT_CLIENT_ID:$OAUTH2_INTROSPECT_CLIENT_SECRET" \
#     -d "token=$ACCESS_TOKEN" "$OAUTH2_INTROSPECTION_URL"
# Revoke one (a revoked refresh token ends its grant: its access tokens go inactive too):
#   curl -s -u "$OAUTH2_CLIENT_ID:$OAUTH2_CLIENT_SECRET" -d "token=$TOKEN" "$OAUTH2_REVOCATION_URL"
# The server rotates refresh tokens on every use: keep the refresh_token each answer returns.
set -euo pipefail
PEER_NAME=oauth2
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
NAME=$(peer_name oauth2)

OIDC_VERSION=${OIDC_PROVIDER_VERSION:-9.13.3}
HOST=127.0.0.1
PORT=${OAUTH2_PORT:-9400}
URL="http://$HOST:$PORT"
DIR="$RUN_DIR/$NAME"
CACHE=${EVENT_ROUTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/event-router}
PKG="$CACHE/oidc-provider-$OIDC_VERSION"
# Fixed test credentials: a loopback server holding nothing of value, and an already running
# server keeps answering to the same ones.
CLIENT_SECRET=${OAUTH2_CLIENT_SECRET:-er-test-client-secret-0123456789}
INTROSPECT_SECRET=${OAUTH2_INTROSPECT_SECRET:-er-introspect-secret-0123456789}

answers() {
  curl -sf -m 2 "$URL/.well-known/openid-configuration" 2>/dev/null | grep -q "\"issuer\":\"$URL\""
}

env_out() {
  write_env "$NAME" "OAUTH2_ISSUER=$URL" "OAUTH2_TOKEN_URL=$URL/token" \
    "OAUTH2_INTROSPECTION_URL=$URL/token/introspection" \
    "OAUTH2_REVOCATION_URL=$URL/token/revocation" \
    "OAUTH2_CLIENT_ID=er-test" "OAUTH2_CLIENT_SECRET=$CLIENT_SECRET" \
    "OAUTH2_POST_CLIENT_ID=er-test-post" "OAUTH2_SHORT_CLIENT_ID=er-test-short" \
    "OAUTH2_INTROSPECT_CLIENT_ID=er-introspect" \
    "OAUTH2_INTROSPECT_CLIENT_SECRET=$INTROSPECT_SECRET" \
    "OAUTH2_TEST_TOKENS_URL=$URL/test/tokens"
}

install_provider() {
  [ -f "$PKG/.installed" ] && return 0
  need_cmd node "apt-get install nodejs"
  need_cmd npm "apt-get install npm"
  need_cmd curl "apt-get install curl"
  log "installing oidc-provider@$OIDC_VERSION into $PKG (first start only)"
  rm -rf "$PKG"
  mkdir -p "$PKG" "$DIR"
  printf '{"name":"oauth2-peer","private":true,"type":"module"}\n' >"$PKG/package.json"
  (cd "$PKG" && npm install --no-audit --no-fund "oidc-provider@$OIDC_VERSION") \
    >"$DIR/install.log" 2>&1 || {
    log_tail "$DIR/install.log"
    die "npm install oidc-provider@$OIDC_VERSION failed"
  }
  touch "$PKG/.installed"
}

do_start() {
  if answers; then
    log "already answering on $URL"
    env_out
    return 0
  fi
  install_provider
  mkdir -p "$DIR"
  if pid=$(pid_of "$NAME"); then
    die "recorded pid $pid is alive but $URL does not answer; run $0 stop"
  fi
  # The script runs from the package folder so Node resolves oidc-provider there.
  cp "$PEERS_DIR/oauth2/server.mjs" "$PKG/server.mjs"
  OAUTH2_PORT=$PORT OAUTH2_CLIENT_SECRET=$CLIENT_SECRET OAUTH2_INTROSPECT_SECRET=$INTROSPECT_SECRET \
    spawn "$DIR/oauth2.log" node "$PKG/server.mjs" >"$DIR/pid"
  if ! wait_up 60 "oidc-provider on $URL" "$(cat "$DIR/pid")" answers; then
    log_tail "$DIR/oauth2.log"
    stop_recorded "$NAME" 5
    die "the OAuth2 server did not start"
  fi
  log "up on $URL (pid $(cat "$DIR/pid"))"
  env_out
}

do_stop() { stop_recorded "$NAME" 10; }

server_main "$@"
