#!/usr/bin/env bash
# sshd_selftest.sh: tests/lib_sshd.sh works: a throwaway sshd on 127.0.0.1
# lets us in by key (`ssh HOST true`), remote commands find the hammer
# under test on their PATH (`ssh HOST hammer -h`), HAMMER_RSH is a working
# remote shell command, a root@127.0.0.1 login works (as root), and
# sshd_stop stops that sshd and nothing else.  Exit 77 without sshd.
# Run alone: BUILD=build-x bash tests/sshd_selftest.sh
set -uo pipefail
export LC_ALL=C
: "${BUILD:?set BUILD to the meson build dir}"
. "$(dirname "$0")/lib_sshd.sh"
trap sshd_stop EXIT
HAMMER=$(cd "$BUILD" && pwd)/cli/hammer
[ -x "$HAMMER" ] || { echo "FAIL: $HAMMER not built"; exit 1; }

fails=0 passes=0
ok()   { passes=$((passes+1)); echo "ok   [$1]"; }
fail() { fails=$((fails+1)); echo "FAIL [$1]${2:+: $2}"; }

sshd_start
echo "sshd pid $SSHD_PID on 127.0.0.1:$SSHD_PORT, HAMMER_RSH='$HAMMER_RSH'"

if out=$(ssh -F "$SSH_CONFIG" "$SSHD_HOST" true </dev/null 2>&1); then ok "ssh host true"
else fail "ssh host true" "$out"; fi
if out=$(ssh -F "$SSH_CONFIG" sshd-test true </dev/null 2>&1); then ok "ssh alias sshd-test"
else fail "ssh alias sshd-test" "$out"; fi

# the remote PATH finds our hammer first
where=$(ssh -F "$SSH_CONFIG" "$SSHD_HOST" 'command -v hammer' </dev/null 2>&1)
if [ "$where" = "$HAMMER" ]; then ok "remote PATH finds the build's hammer"
else fail "remote PATH finds the build's hammer" "want $HAMMER, got '$where'"; fi
# `hammer -h` prints usage (exit status 0 or 1 depending on the CLI)
out=$(ssh -F "$SSH_CONFIG" "$SSHD_HOST" hammer -h </dev/null 2>&1)
local_out=$("$HAMMER" -h 2>&1)
if [ -n "$out" ] && [ "$out" = "$local_out" ]; then ok "ssh host hammer -h"
else fail "ssh host hammer -h" "remote output differs from local: $(echo "$out" | head -3)"; fi

# HAMMER_RSH, split on spaces as hammer does, is a working remote shell
read -r -a rsh <<< "$HAMMER_RSH"
if out=$("${rsh[@]}" "$SSHD_HOST" echo via-rsh </dev/null 2>&1) && [ "$out" = via-rsh ]; then
  ok "HAMMER_RSH runs a remote command"
else fail "HAMMER_RSH runs a remote command" "$out"; fi

# data through both directions, binary-clean (as a mirror stream needs)
head -c 1048576 /dev/urandom > "$SSHD_DIR/blob"
sum_local=$(sha256sum < "$SSHD_DIR/blob")
sum_remote=$("${rsh[@]}" "$SSHD_HOST" sha256sum < "$SSHD_DIR/blob" 2>&1)
if [ "$sum_local" = "$sum_remote" ]; then ok "1 MiB through ssh stdin unchanged"
else fail "1 MiB through ssh stdin unchanged" "local $sum_local, remote $sum_remote"; fi
sum_back=$("${rsh[@]}" "$SSHD_HOST" cat "$SSHD_DIR/blob" 2>/dev/null | sha256sum)
if [ "$sum_local" = "$sum_back" ]; then ok "1 MiB through ssh stdout unchanged"
else fail "1 MiB through ssh stdout unchanged" "local $sum_local, back $sum_back"; fi

if [ "$(id -u)" -eq 0 ]; then
  if out=$(ssh -F "$SSH_CONFIG" root@127.0.0.1 'id -u' </dev/null 2>&1) && [ "$out" = 0 ]; then
    ok "root@127.0.0.1 by key"
  else fail "root@127.0.0.1 by key" "$out"; fi
fi

# a password-only login is refused (BatchMode: no prompt, no hang)
if ssh -F /dev/null -p "$SSHD_PORT" -o BatchMode=yes -o StrictHostKeyChecking=no \
     -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o IdentityFile="$SSHD_DIR/none" \
     -o LogLevel=ERROR "$SSHD_HOST" true </dev/null >/dev/null 2>&1; then
  fail "login without the key refused" "it got in"
else ok "login without the key refused"; fi

pid=$SSHD_PID dir=$SSHD_DIR
sshd_stop
if kill -0 "$pid" 2>/dev/null; then fail "sshd_stop stops our sshd" "pid $pid still alive"
else ok "sshd_stop stops our sshd"; fi
if [ -e "$dir" ]; then fail "sshd_stop removes its folder" "$dir"; else ok "sshd_stop removes its folder"; fi
if ssh -F /dev/null -o BatchMode=yes -o ConnectTimeout=2 -p "$SSHD_PORT" 127.0.0.1 true </dev/null >/dev/null 2>&1; then
  fail "port closed after sshd_stop" "port $SSHD_PORT still answers"
else ok "port closed after sshd_stop"; fi
sshd_stop	# twice is harmless

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
