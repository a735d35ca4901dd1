#!/usr/bin/env bash
# Dovecot (IMAP) for tests: Debian's dovecot-imapd with a private config file, plain IMAP on
# 127.0.0.1:1143 (STARTTLS offered with a self-signed certificate), one test user whose
# Maildir lives under tests/peers/.run/dovecot/. A second passdb takes XOAUTH2/OAUTHBEARER
# logins and checks the token at the test OAuth2 server's introspection endpoint
# (servers/oauth2.sh); the token's `sub` is the user it logs in.
#   start: install if missing, (re)write the config, start or reload, wait for a real LOGIN
#   stop:  stop the pid that start recorded
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
PEER_NAME=dovecot
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
NAME=$(peer_name dovecot)

HOST=127.0.0.1
PORT=${IMAP_PORT:-1143}
USER_NAME=router
USER_PASS=router-imap-secret
# Mail is owned by an unprivileged system user: Dovecot refuses to run mail access as root.
MAIL_OWNER=event-router-mail
DIR="$RUN_DIR/$NAME"
CONF="$DIR/dovecot.conf"
# IMAP_AUTH_MECHANISMS (for a private instance): what the server offers, e.g. "plain xoauth2"
# for a server with XOAUTH2 but not OAUTHBEARER (which clients prefer when both are there).
MECHANISMS=${IMAP_AUTH_MECHANISMS:-plain login xoauth2 oauthbearer}
# IMAP_NO_IDLE=true (for a private instance): a server that does not offer IDLE.
NO_IDLE=""
if [ "${IMAP_NO_IDLE:-}" = "true" ]; then
  NO_IDLE="IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT MULTIAPPEND UNSELECT CHILDREN"
  NO_IDLE+=" NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE ESEARCH SEARCHRES LIST-STATUS"
  NO_IDLE+=" BINARY MOVE LITERAL+"
fi

# True when every folder from / down to $1 lets others in (o+x).
traversable() {
  local p=$1
  while [ "$p" != "/" ] && [ -n "$p" ]; do
    [ $((8#$(stat -c %a "$p") & 1)) -eq 1 ] || return 1
    p=$(dirname "$p")
  done
}

# Dovecot's unprivileged processes (auth as dovecot, mail as $MAIL_OWNER) cannot enter a
# checkout under a private folder (a clone under /root): then what they read and write (users,
# token settings, sockets, state, Maildirs) lives under /var/tmp, in a folder named after the
# checkout (as postgres.sh does). Config, certificate, log and pid stay in $DIR (root reads them).
STATE="$DIR"
if ! traversable "$PEERS_DIR"; then
  STATE="/var/tmp/event-router-peers-$(printf %s "$RUN_DIR" | md5sum | cut -c1-12)/$NAME"
fi
MAILHOME="$STATE/home"

# A real IMAP LOGIN (not just an open port): "a OK" after the login command.
answers() {
  local out
  out=$(timeout 3 bash -c "exec 3<>/dev/tcp/$HOST/$PORT; printf 'a LOGIN $USER_NAME $USER_PASS\r\nb LOGOUT\r\n' >&3; cat <&3" 2>/dev/null) || true
  printf '%s' "$out" | grep -q '^a OK'
}

env_out() {
  write_env "$NAME" "IMAP_HOST=$HOST" "IMAP_PORT=$PORT" "IMAP_USER=$USER_NAME" \
    "IMAP_PASSWORD=$USER_PASS" "IMAP_TLS=false" "IMAP_CA_FILE=$DIR/tls/cert.pem"
}

# Where tokens are checked: the environment (a test's private instance), else what
# servers/oauth2.sh wrote, else its defaults (it may still be starting: Dovecot asks only
# when a client logs in with a token).
oauth2_settings() {
  local f="$RUN_DIR/oauth2.env"
  if [ -z "${OAUTH2_INTROSPECTION_URL:-}" ] && [ -f "$f" ]; then
    # shellcheck disable=SC1090
    . "$f"
  fi
  INTROSPECT_URL=${OAUTH2_INTROSPECTION_URL:-http://127.0.0.1:9400/token/introspection}
  INTROSPECT_ID=${OAUTH2_INTROSPECT_CLIENT_ID:-er-introspect}
  INTROSPECT_SECRET=${OAUTH2_INTROSPECT_CLIENT_SECRET:-er-introspect-secret-0123456789}
}

write_config() {
  local tmp="$CONF.tmp"
  oauth2_settings
  cat >"$tmp" <<EOF
# written by tests/peers/servers/dovecot.sh; do not edit
protocols = imap
listen = $HOST
instance_name = event-router-${NAME//\//-}
base_dir = $STATE/base
state_dir = $STATE/state
log_path = $DIR/dovecot.log
info_log_path = $DIR/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
ssl = yes
ssl_cert = <$DIR/tls/cert.pem
ssl_key = <$DIR/tls/key.pem
disable_plaintext_auth = no
# Tests log in with wrong passwords on purpose: no delay before the refusal.
auth_failure_delay = 0 secs
auth_mechanisms = $MECHANISMS
mail_location = maildir:~/Maildir
first_valid_uid = 100
# New mail in IDLE is seen through inotify at once; this is only the fallback.
mailbox_idle_check_interval = 1 secs
imap_idle_notify_interval = 1 mins
${NO_IDLE:+# IMAP_NO_IDLE: the capability list without IDLE (a server that only polls)}
${NO_IDLE:+imap_capability = $NO_IDLE}
namespace inbox {
  inbox = yes
  separator = /
}
service imap-login {
  inet_listener imap {
    address = $HOST
    port = $PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service imap {
  process_limit = 64
}
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u $STATE/users
}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $STATE/oauth2.conf.ext
}
EOF
  # Basic auth of the introspection client, in the URL as Dovecot takes it.
  cat >"$STATE/oauth2.conf.ext.tmp" <<EOF
introspection_mode = post
introspection_url = ${INTROSPECT_URL/:\/\//://$INTROSPECT_ID:$INTROSPECT_SECRET@}
username_attribute = sub
active_attribute = active
active_value = true
force_introspection = yes
timeout_msecs = 5000
EOF
  mv "$STATE/oauth2.conf.ext.tmp" "$STATE/oauth2.conf.ext"
  cat >>"$tmp" <<EOF
# oauth2.conf.ext $(md5sum <"$STATE/oauth2.conf.ext" | cut -c1-32): a changed one reloads too
userdb {
  driver = static
  args = uid=$MAIL_OWNER gid=$MAIL_OWNER home=$MAILHOME/%u
}
EOF
  if [ -f "$CONF" ] && cmp -s "$tmp" "$CONF"; then
    rm -f "$tmp"
    return 1 # unchanged
  fi
  mv "$tmp" "$CONF"
}

prepare() {
  apt_install dovecot-imapd
  id "$MAIL_OWNER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$MAIL_OWNER"
  mkdir -p "$STATE/base" "$STATE/state" "$DIR/tls" "$MAILHOME"
  chown "$MAIL_OWNER:$MAIL_OWNER" "$MAILHOME"
  printf '%s:{PLAIN}%s\n' "$USER_NAME" "$USER_PASS" >"$STATE/users"
  if [ ! -f "$DIR/tls/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -keyout "$DIR/tls/key.pem" -out "$DIR/tls/cert.pem" >"$DIR/openssl.log" 2>&1 || {
      log_tail "$DIR/openssl.log"
      die "openssl could not make the test certificate"
    }
    chmod 600 "$DIR/tls/key.pem"
  fi
}

do_start() {
  prepare
  local changed=0
  write_config && changed=1
  if answers; then
    if [ "$changed" -eq 1 ] && pid_of "$NAME" >/dev/null; then
      log "config changed: reloading"
      doveadm -c "$CONF" reload || die "doveadm reload failed"
      wait_until 20 "dovecot to answer after reload" answers || die "dovecot did not come back"
    else
      log "already answering on $HOST:$PORT"
    fi
    env_out
    return 0
  fi
  if pid=$(pid_of "$NAME"); then
    # Ours, and busy (a loaded machine, logins delayed after failed ones): give it time.
    if wait_until 20 "the running dovecot to answer" answers; then
      [ "$changed" -eq 1 ] && { doveadm -c "$CONF" reload || die "doveadm reload failed"; }
      log "answering on $HOST:$PORT (pid $pid)"
      env_out
      return 0
    fi
    die "recorded pid $pid is alive but $HOST:$PORT does not answer a LOGIN; run $0 stop"
  fi
  # -F: stay in the foreground, so the recorded pid is dovecot's master itself.
  spawn "$DIR/master.log" dovecot -F -c "$CONF" >"$DIR/pid"
  if ! wait_up 20 "IMAP LOGIN on $HOST:$PORT" "$(cat "$DIR/pid")" answers; then
    log_tail "$DIR/master.log"
    log_tail "$DIR/dovecot.log"
    die "dovecot did not start"
  fi
  log "up on $HOST:$PORT (pid $(cat "$DIR/pid"))"
  env_out
}

do_stop() { stop_recorded "$NAME" 10; }

server_main "$@"
