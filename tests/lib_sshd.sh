# lib_sshd.sh: sourced by tests that need an ssh server (not a test itself).
#
# sshd_start [--try] [DIR...]
#   Starts a throwaway OpenSSH server (Debian's openssh-server) on
#   127.0.0.1, on a free port, with its own host key, one authorized client
#   key and a config in a temporary folder: no PAM, no passwords, root may
#   log in by key, StrictModes off.  DIR... (default $BUILD/cli and
#   $BUILD/fuse when BUILD is set) go first on the PATH of remote commands
#   (sshd's SetEnv), so `ssh HOST hammer ...` runs the hammer under test.
#   Writes a client config and exports:
#     SSHD_DIR     the temporary folder (keys, configs, logs, pid file)
#     SSHD_PORT    the port
#     SSHD_HOST    127.0.0.1 (the alias "sshd-test" works as well)
#     SSHD_USER    the user we log in as (the caller)
#     SSH_CONFIG   the client config: port, identity, StrictHostKeyChecking
#                  no, UserKnownHostsFile /dev/null, BatchMode yes, LogLevel
#                  ERROR (for any host name)
#     HAMMER_RSH   "ssh -F $SSH_CONFIG" (hammer's remote shell: split on spaces)
#   Without sshd or ssh it prints "SKIP: <reason>" and exits 77, or with
#   --try returns 77 (the caller goes on without ssh).  Other failures
#   print the server's log and exit 1 (return 1 with --try).
# sshd_stop
#   Kills the sshd we started (the pid in our pid file, nothing else),
#   waits for it and removes the folder.  Safe to call twice; sshd_start
#   does not set traps: call sshd_stop from the caller's EXIT trap.

SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}
SSHD_DIR=
SSHD_PID=
SSHD_MADE_RUNDIR=

_sshd_skip() {	# _sshd_skip TRY REASON
  echo "SKIP: $2"
  if [ "$1" = 1 ]; then return 77; fi
  exit 77
}

_sshd_free_port() {
  python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

sshd_start() {
  local try=0
  if [ "${1:-}" = --try ]; then try=1; shift; fi
  [ -x "$SSHD_BIN" ] || { _sshd_skip $try "sshd not installed ($SSHD_BIN; Debian package openssh-server)"; return; }
  command -v ssh >/dev/null || { _sshd_skip $try "ssh client not installed (openssh-client)"; return; }
  command -v ssh-keygen >/dev/null || { _sshd_skip $try "ssh-keygen not installed"; return; }
  command -v python3 >/dev/null || { _sshd_skip $try "python3 missing (used to find a free port)"; return; }
  local dirs=("$@")
  if [ ${#dirs[@]} -eq 0 ] && [ -n "${BUILD:-}" ]; then
    dirs=("$(cd "$BUILD" && pwd)/cli" "$(cd "$BUILD" && pwd)/fuse")
  fi
  local path="" d
  for d in "${dirs[@]}"; do path+="$d:"; done
  path+="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  case "$path" in *' '*|*'"'*)
    echo "sshd_start: PATH entries must not contain spaces or quotes: $path"
    [ $try = 1 ] && return 1; exit 1;;
  esac

  SSHD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sshd.XXXXXX")
  chmod 700 "$SSHD_DIR"
  SSHD_USER=$(id -un)
  SSHD_HOST=127.0.0.1
  SSH_CONFIG=$SSHD_DIR/ssh_config
  ssh-keygen -q -t ed25519 -N '' -C sshd-test-host -f "$SSHD_DIR/host_key" </dev/null
  ssh-keygen -q -t ed25519 -N '' -C sshd-test-client -f "$SSHD_DIR/client_key" </dev/null
  cp "$SSHD_DIR/client_key.pub" "$SSHD_DIR/authorized_keys"
  # sshd refuses to start without its privilege separation directory
  if [ "$(id -u)" -eq 0 ] && [ ! -d /run/sshd ]; then
    mkdir -p /run/sshd && chmod 755 /run/sshd && SSHD_MADE_RUNDIR=1
  fi

  local attempt port
  for attempt in 1 2 3 4 5; do
    port=$(_sshd_free_port)
    cat > "$SSHD_DIR/sshd_config" <<EOF
# throwaway sshd for hammer-linux tests (tests/lib_sshd.sh)
ListenAddress 127.0.0.1
Port $port
HostKey $SSHD_DIR/host_key
PidFile $SSHD_DIR/sshd.pid
AuthorizedKeysFile $SSHD_DIR/authorized_keys
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
PermitUserEnvironment no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
PrintLastLog no
UseDNS no
MaxStartups 50:30:100
MaxSessions 50
LogLevel VERBOSE
SetEnv PATH=$path
EOF
    cat > "$SSH_CONFIG" <<EOF
# client side of tests/lib_sshd.sh's sshd (use: ssh -F $SSH_CONFIG HOST CMD)
Host sshd-test
  HostName 127.0.0.1
Host *
  Port $port
  User $SSHD_USER
  IdentityFile $SSHD_DIR/client_key
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  GlobalKnownHostsFile /dev/null
  BatchMode yes
  LogLevel ERROR
  ConnectTimeout 10
  ServerAliveInterval 5
  ServerAliveCountMax 3
EOF
    rm -f "$SSHD_DIR/sshd.pid"
    if ! "$SSHD_BIN" -t -f "$SSHD_DIR/sshd_config" > "$SSHD_DIR/sshd-t.log" 2>&1; then
      echo "sshd_start: sshd rejects its config:"; cat "$SSHD_DIR/sshd-t.log"
      [ $try = 1 ] && return 1; exit 1
    fi
    # absolute path: sshd re-executes itself for each connection
    "$SSHD_BIN" -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log" </dev/null
    local i
    for i in $(seq 50); do
      [ -s "$SSHD_DIR/sshd.pid" ] && break
      sleep 0.1
    done
    if [ -s "$SSHD_DIR/sshd.pid" ]; then
      SSHD_PID=$(cat "$SSHD_DIR/sshd.pid")
      SSHD_PORT=$port
      break
    fi
    # the port was taken between our probe and sshd's bind: try another
    grep -q "Address already in use" "$SSHD_DIR/sshd.log" 2>/dev/null || break
  done
  if [ -z "$SSHD_PID" ]; then
    echo "sshd_start: sshd did not start:"; cat "$SSHD_DIR/sshd.log" 2>/dev/null
    [ $try = 1 ] && return 1; exit 1
  fi
  HAMMER_RSH="ssh -F $SSH_CONFIG"
  export SSHD_DIR SSHD_PORT SSHD_HOST SSHD_USER SSH_CONFIG HAMMER_RSH
  # the server answers before we go on
  for i in $(seq 50); do
    ssh -F "$SSH_CONFIG" "$SSHD_HOST" true </dev/null 2>/dev/null && return 0
    sleep 0.2
  done
  echo "sshd_start: sshd (pid $SSHD_PID, port $SSHD_PORT) does not let us in:"
  ssh -F "$SSH_CONFIG" -o LogLevel=VERBOSE "$SSHD_HOST" true </dev/null 2>&1 | tail -5
  tail -20 "$SSHD_DIR/sshd.log"
  sshd_stop
  [ $try = 1 ] && return 1; exit 1
}

sshd_stop() {
  local pid=${SSHD_PID:-}
  if [ -z "$pid" ] && [ -n "${SSHD_DIR:-}" ] && [ -s "$SSHD_DIR/sshd.pid" ]; then
    pid=$(cat "$SSHD_DIR/sshd.pid")
  fi
  # only our listener: its pid file, and its command line names our config
  if [ -n "$pid" ] && [ -n "${SSHD_DIR:-}" ] &&
     tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF "$SSHD_DIR/sshd_config"; then
    kill "$pid" 2>/dev/null
    local i
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  fi
  SSHD_PID=
  if [ -n "${SSHD_DIR:-}" ]; then rm -rf "$SSHD_DIR"; fi
  SSHD_DIR=
  if [ -n "$SSHD_MADE_RUNDIR" ]; then rmdir /run/sshd 2>/dev/null; SSHD_MADE_RUNDIR=; fi
  return 0
}
