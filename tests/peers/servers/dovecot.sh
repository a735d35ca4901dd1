#!/usr/bin/env bash
# Dovecot (IMAP) for tests: Debian's dovecot-imapd with a private config file, plain IMAP on
# 127.0.0.1:1143 (STARTTLS offered with a self-signed certificate), one test user whose
# Maildir lives under tests/peers/.run/dovecot/. When the test OAuth2 server
# (servers/oauth2.sh) has written its settings, a second passdb checks XOAUTH2/OAUTHBEARER
# tokens against its introspection endpoint.
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

# True when every folder from / down to $1 lets others in (o+x).
traversable() {
  local p=$1
  while [ "$p" != "/" ] && [ -n "$p" ]; do
    [ $((8#$(stat -c %a "$p") & 1)) -eq 1 ] || return 1
    p=$(dirname "$p")
  done
}

# The mail user cannot enter a checkout under a private folder (a clone under /root): then the
# Maildirs live under /var/tmp, in a folder named after the checkout (as postgres.sh does).
MAILHOME="$DIR/home"
if ! traversable "$PEERS_DIR"; then
  MAILHOME="/var/tmp/event-router-peers-$(printf %s "$RUN_DIR" | md5sum | cut -c1-12)/$NAME/home"
fi

# A real IMAP LOGIN (not just an open port): "a OK" after the login command.
answers() {
  local out
  out=$(timeout 3 bash -c "exec 3<>/dev/tcp/$HOST/$PORT; printf 'a LOGIN $USER_NAME $USER_PASS\r\nb LOGOUT\r\n' >&3; cat <&3" 2>/dev/null) || true
  printf '%s' "$out" | grep -q '^a OK'
}

env_out() {
  write_env "$NAME" "IMAP_HOST=$HOST" "IMAP_PORT=$PORT" "IMAP_USER=$USER_NAME" \
    "IMAP_PASSWORD=$USER_PASS" "IMAP_TLS=false"
}

# The OAuth2 server's settings, when servers/oauth2.sh has written them.
oauth2_env() {
  local f="$RUN_DIR/oauth2.env"
  [ -f "$f" ] || return 1
  # shellcheck disable=SC1090
  (. "$f" && [ -n "${OAUTH2_INTROSPECTION_URL:-}" ] && printf '%s\n' "$OAUTH2_INTROSPECTION_URL" \
    "${OAUTH2_INTROSPECTION_CLIENT_ID:-}" "${OAUTH2_INTROSPECTION_CLIENT_SECRET:-}")
}

write_config() {
  local tmp="$CONF.tmp" oauth="" introspect="" cid="" csecret=""
  if mapfile -t oauth < <(oauth2_env) && [ ${#oauth[@]} -ge 1 ] && [ -n "${oauth[0]}" ]; then
    introspect=${oauth[0]} cid=${oauth[1]:-} csecret=${oauth[2]:-}
  fi
  cat >"$tmp" <<EOF
# written by tests/peers/servers/dovecot.sh; do not edit
protocols = imap
listen = $HOST
instance_name = event-router-${NAME//\//-}
base_dir = $DIR/base
state_dir = $DIR/state
log_path = $DIR/dovecot.log
info_log_path = $DIR/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
ssl = yes
ssl_cert = <$DIR/tls/cert.pem
ssl_key = <$DIR/tls/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login${introspect:+ xoauth2 oauthbearer}
mail_location = maildir:~/Maildir
first_valid_uid = 100
# New mail in IDLE is seen through inotify at once; this is only the fallback.
mailbox_idle_check_interval = 1 secs
imap_idle_notify_interval = 1 mins
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
  args = scheme=PLAIN username_format=%u $DIR/users
}
EOF
  if [ -n "$introspect" ]; then
    # Tokens are checked at the OAuth2 server; the token's "username" claim must name the
    # IMAP user the client logs in as.
    cat >>"$tmp" <<EOF
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $DIR/oauth2.conf.ext
}
EOF
    local url=$introspect
    if [ -n "$cid" ]; then
      url="${introspect/:\/\//://$cid:$csecret@}"
    fi
    cat >"$DIR/oauth2.conf.ext.tmp" <<EOF
introspection_mode = post
introspection_url = $url
username_attribute = username
active_attribute = active
active_value = true
force_introspection = yes
timeout_msecs = 5000
EOF
    mv "$DIR/oauth2.conf.ext.tmp" "$DIR/oauth2.conf.ext"
  fi
  cat >>"$tmp" <<EOF
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
  mkdir -p "$DIR/base" "$DIR/state" "$DIR/tls" "$MAILHOME"
  chown "$MAIL_OWNER:$MAIL_OWNER" "$MAILHOME"
  printf '%s:{PLAIN}%s\n' "$USER_NAME" "$USER_PASS" >"$DIR/users"
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
