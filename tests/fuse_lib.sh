# fuse_lib.sh: sourced by tests/fuse_*.sh (not a test itself).
#
# Gives: $HF (hammer-fuse), $HAMMER, $NEWFS, $HT (hfuse-test), $work (a
# temporary folder removed at exit), ok/fail counters, mk_image, hf_mount /
# hf_umount (foreground daemons we started, tracked by pid), check_image,
# and finish (the exit status).  Everything we mount is unmounted at exit,
# and only processes we started are killed, by pid.
set -uo pipefail
export LC_ALL=C
: "${BUILD:?set BUILD to the meson build dir}"
HF=$BUILD/fuse/hammer-fuse
HELPER=$BUILD/fuse/mount.fuse.hammer
HT=$BUILD/fuse/hfuse-test
HAMMER=$BUILD/cli/hammer
NEWFS=$BUILD/cli/newfs_hammer
[ -e "$HF" ] || { echo "SKIP: built without FUSE (libfuse3 not found)"; exit 77; }
for p in "$HF" "$HELPER" "$HT" "$HAMMER" "$NEWFS"; do
  [ -x "$p" ] || { echo "FAIL: $p not built"; exit 1; }
done
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
  echo "SKIP: /dev/fuse or fusermount3 missing"; exit 77
fi
# /dev/fuse may exist but be unusable (containers without the capability)
if ! (exec 3<>/dev/fuse) 2>/dev/null; then
  echo "SKIP: /dev/fuse cannot be opened"; exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hfuse.XXXXXX")
chmod 755 "$work"	# other users must reach the mount point
fails=0
passes=0
declare -A HF_PID=()		# mount point -> daemon pid

ok()   { passes=$((passes+1)); echo "ok   [$1]"; }
fail() { fails=$((fails+1)); echo "FAIL [$1]${2:+: $2}"; }
# expect NAME WANT GOT
expect() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "want '$2', got '$3'"; fi; }
# errname CMD...: run, print "ok" or the errno-like message tail
errmsg() { local out; if out=$("$@" 2>&1); then echo ok; else echo "${out##*: }"; fi; }

# root mounts are fuseblk.hammer (over a loop device for image files)
is_mounted() { grep -qE " $1 fuse(blk)?\.hammer " /proc/self/mounts 2>/dev/null; }

cleanup() {
  local mp pid
  for mp in "${!HF_PID[@]}"; do
    pid=${HF_PID[$mp]}
    is_mounted "$mp" && fusermount3 -u -z "$mp" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  # daemons started through the mount helper (not our children)
  for mp in $(awk -v w="$work/" 'index($2, w) == 1 && $3 ~ /^fuse(blk)?\.hammer$/ {print $2}' /proc/self/mounts); do
    fusermount3 -u -z "$mp" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT

# mk_image PATH SIZE [newfs args...]: a fresh sparse volume (small UNDO)
mk_image() {
  local img=$1 size=$2; shift 2
  rm -f "$img"; truncate -s "$size" "$img"
  "$NEWFS" -L TEST -f -u 8M "$@" "$img" >"$work/newfs.log" 2>&1 ||
    { echo "newfs failed:"; cat "$work/newfs.log"; return 1; }
}

# hf_mount DEVS MNT [hammer-fuse args...]: start a foreground daemon, wait
# until the mount is there.  Returns 1 (after printing stderr) if it is not.
hf_mount() {
  local devs=$1 mp=$2; shift 2
  mkdir -p "$mp"
  "$HF" -f "$@" "$devs" "$mp" 2>>"$work/daemon.log" &
  local pid=$!
  for _ in $(seq 100); do
    is_mounted "$mp" && { HF_PID[$mp]=$pid; return 0; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "mount of $devs on $mp failed:"; tail -5 "$work/daemon.log"
  kill -0 "$pid" 2>/dev/null && kill "$pid"
  wait "$pid" 2>/dev/null
  return 1
}

# hf_umount MNT: fusermount3 -u, then wait for the daemon's final flush.
# Returns the daemon's exit status.
hf_umount() {
  local mp=$1 pid=${HF_PID[$1]:-}
  [ -n "$pid" ] || { echo "hf_umount: $mp not ours"; return 1; }
  fusermount3 -u "$mp" || { sleep 1; fusermount3 -u "$mp"; } || return 1
  wait "$pid"; local st=$?
  unset "HF_PID[$mp]"
  return $st
}

# hf_forget MNT: after the daemon was killed: detach the dead mount.
hf_forget() {
  local mp=$1 pid=${HF_PID[$1]:-}
  fusermount3 -u -z "$mp" 2>/dev/null
  [ -n "$pid" ] && wait "$pid" 2>/dev/null
  unset "HF_PID[$mp]"
}

# check_image DEVS NAME: the offline checker finds nothing
check_image() {
  local out
  if out=$("$HAMMER" -f "$1" check 2>&1); then ok "$2"; else fail "$2" "$out"; fi
}

finish() {
  echo "$passes passed, $fails failed"
  [ "$fails" -eq 0 ]
}
