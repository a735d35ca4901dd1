# shellcheck shell=bash
# Shared shell functions for the test-server scripts under tests/peers/.
# Sourced by start.sh, stop.sh and servers/<name>.sh; defines no behaviour of its own.
#
# Convention for servers/<name>.sh (see README in start.sh):
#   start: install what is missing, start on 127.0.0.1 with state in .run/<name>/,
#          wait until it really answers, record .run/<name>/pid, write .run/<name>.env
#   stop:  stop only what start started (by the recorded pid)

PEERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUN_DIR="$PEERS_DIR/.run"
mkdir -p "$RUN_DIR"

# log/warn/die print to stderr with the server's name as prefix.
log() { printf '[peers:%s] %s\n' "${PEER_NAME:-main}" "$*" >&2; }
warn() { log "warning: $*"; }
die() {
  log "error: $*"
  exit 1
}

# log_tail FILE [LINES]: prints the end of a log file (for failures).
log_tail() {
  local file=$1 lines=${2:-40}
  if [ -f "$file" ]; then
    log "last $lines lines of $file:"
    tail -n "$lines" "$file" | sed 's/^/    /' >&2
  else
    log "no log at $file"
  fi
}

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# wait_until SECONDS DESCRIPTION COMMAND...: runs COMMAND every 0.5 s until it succeeds.
# Fails (returns 1) after SECONDS; never waits longer.
wait_until() {
  local limit=$1 desc=$2
  shift 2
  local deadline=$((SECONDS + limit))
  while ! "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "gave up after ${limit}s waiting for $desc"
      return 1
    fi
    sleep 0.5
  done
}

# wait_up SECONDS DESCRIPTION PID COMMAND...: like wait_until, but gives up at once when the
# process PID (the server being started) has exited.
wait_up() {
  local limit=$1 desc=$2 pid=$3
  shift 3
  local deadline=$((SECONDS + limit))
  while ! "$@" >/dev/null 2>&1; do
    if ! alive "$pid"; then
      log "the server process (pid $pid) exited while waiting for $desc"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "gave up after ${limit}s waiting for $desc"
      return 1
    fi
    sleep 0.5
  done
}

# wait_for_port HOST PORT SECONDS
wait_for_port() {
  wait_until "$3" "$1:$2 to accept connections" port_open "$1" "$2"
}

# alive PID: the process exists and is not a zombie (pid 1 here may be slow to reap).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "$state" != "Z" ]
}

# pid_of NAME: the recorded pid of our server NAME if that process is still alive.
pid_of() {
  local file="$RUN_DIR/$1/pid" pid
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  [ -n "$pid" ] && alive "$pid" || return 1
  echo "$pid"
}

# stop_recorded NAME [SECONDS] [SIGNAL]: sends SIGNAL (TERM) to the recorded pid, waits up to
# SECONDS, then KILL. Only ever touches the pid that start recorded.
stop_recorded() {
  local name=$1 limit=${2:-20} sig=${3:-TERM} pid
  if ! pid=$(pid_of "$name"); then
    if [ -f "$RUN_DIR/$name/pid" ]; then
      log "already stopped (recorded pid $(cat "$RUN_DIR/$name/pid") is gone)"
      rm -f "$RUN_DIR/$name/pid" "$RUN_DIR/$name.env"
    else
      # Nothing recorded: not started by start (maybe reused a server already answering).
      log "not started by this script; nothing to stop"
    fi
    return 0
  fi
  log "stopping pid $pid (SIG$sig)"
  kill -"$sig" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + limit))
  while alive "$pid"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      warn "pid $pid still alive after ${limit}s, sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.3
  done
  rm -f "$RUN_DIR/$name/pid" "$RUN_DIR/$name.env"
}

# spawn LOGFILE COMMAND...: starts COMMAND in the background in its own session (so it outlives
# this script and a terminal's Ctrl-C), output appended to LOGFILE; prints its pid.
spawn() {
  local logfile=$1
  shift
  setsid "$@" </dev/null >>"$logfile" 2>&1 &
  echo $!
}

# write_env NAME KEY=VALUE...: writes .run/NAME.env (atomically).
write_env() {
  local name=$1
  shift
  local file="$RUN_DIR/$name.env"
  printf '%s\n' "$@" >"$file.tmp"
  mv "$file.tmp" "$file"
  log "settings in $file"
}

# apt_install PACKAGE...: installs the Debian packages that are missing. Serialised by a lock
# so servers starting in parallel do not fight over dpkg; runs apt-get update once per run dir.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  (
    flock -w 600 9 || die "could not take the apt lock $RUN_DIR/apt.lock"
    # Another server may have installed them while we waited.
    local still=()
    for p in "${missing[@]}"; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || still+=("$p")
    done
    [ ${#still[@]} -eq 0 ] && exit 0
    log "installing ${still[*]} (apt-get)"
    if [ ! -f "$RUN_DIR/apt.updated" ]; then
      apt-get update -qq >"$RUN_DIR/apt.log" 2>&1 || {
        log_tail "$RUN_DIR/apt.log"
        die "apt-get update failed"
      }
      touch "$RUN_DIR/apt.updated"
    fi
    # No systemd here; a policy-rc.d that answers 101 keeps packages from starting their own
    # services (which would take our ports). Container images ship one; add it only if absent.
    local made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
      made_policy=1
    fi
    local rc=0
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${still[@]}" \
      >>"$RUN_DIR/apt.log" 2>&1 || rc=$?
    [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
    if [ "$rc" -ne 0 ]; then
      log_tail "$RUN_DIR/apt.log"
      die "apt-get install ${still[*]} failed"
    fi
  ) 9>"$RUN_DIR/apt.lock"
}

# need_cmd CMD HINT: dies with HINT when CMD is not on PATH.
need_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

# peer_name DEFAULT: the name a server script uses for its state. Normally DEFAULT
# (.run/DEFAULT/, .run/DEFAULT.env, which start.sh collects into peers.env). With
# PEER_INSTANCE=x set, a private extra copy: .run/instances/x/ and .run/instances/x.env, which
# start.sh ignores. Tests use instances (on other ports) to stop and restart a real server
# without disturbing the shared one other tests use.
peer_name() {
  if [ -n "${PEER_INSTANCE:-}" ]; then
    case "$PEER_INSTANCE" in
      *[!A-Za-z0-9_-]*) die "PEER_INSTANCE may hold only letters, digits, - and _" ;;
    esac
    mkdir -p "$RUN_DIR/instances"
    echo "instances/$PEER_INSTANCE"
  else
    echo "$1"
  fi
}

# server_main "$@": dispatches start|stop to the functions do_start/do_stop of the caller.
server_main() {
  case "${1:-}" in
    start) do_start ;;
    stop) do_stop ;;
    *)
      echo "usage: $0 start|stop" >&2
      exit 2
      ;;
  esac
}

# The server names given, or every servers/*.sh; printed one per line.
server_names() {
  if [ $# -gt 0 ]; then
    printf '%s\n' "$@"
  else
    local f
    for f in "$PEERS_DIR"/servers/*.sh; do basename "$f" .sh; done
  fi
}

# Runs `servers/<name>.sh <action>` for every name in parallel; prints the names that failed.
run_servers() {
  local action=$1 n script
  shift
  declare -A pids=()
  for n in "$@"; do
    script="$PEERS_DIR/servers/$n.sh"
    if [ ! -f "$script" ]; then
      log "error: no server script $script"
      echo "$n"
      continue
    fi
    bash "$script" "$action" &
    pids[$n]=$!
  done
  for n in "${!pids[@]}"; do
    wait "${pids[$n]}" || echo "$n"
  done
}

# peers.env: the settings of every server that has an env file (started now or earlier).
write_peers_env() {
  local f
  {
    echo "# written by tests/peers/start.sh; do not edit"
    for f in "$RUN_DIR"/*.env; do
      [ -f "$f" ] && cat "$f"
    done
  } >"$PEERS_DIR/peers.env.tmp"
  mv "$PEERS_DIR/peers.env.tmp" "$PEERS_DIR/peers.env"
}
