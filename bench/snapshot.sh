#!/usr/bin/env bash
# bench/snapshot.sh: what snapshots cost, measured with the built binaries
# on hammer-fuse mounts (BUILD=dir, default "build"; needs /dev/fuse and
# fusermount3, as tests/fuse_lib.sh, whose mount helpers it uses).  On
# demand, not in CI; it never fails on a number, only when a step fails.
#
#   (a) `hammer snapshot FS DIR/name` on a mount holding SMALL (1,000) and
#       LARGE (100,000) files of 100 bytes (directories of 1,000), written
#       through the mount and synced first.  ROUNDS (7) rounds each: one
#       file is rewritten (so the snapshot's synctid has a flush to do),
#       then the wall time of the whole command (process, synctid, record,
#       link).  Both mounts are up together, SETTLE (10) seconds after the
#       writes, and the rounds alternate between them.  It must not depend on the number of files: the medians and
#       their ratio are printed.  The link must show the file's content as
#       of the snapshot; the checker must find the image clean.
#   (b) `hammer snapls` of a PFS with NSNAP (10,000) snapshot records,
#       added with the snap-add control verb (fuse/ctl_proto.h) from one
#       client process, one connection per record; the time of the adds
#       is printed too.  ROUNDS runs of snapls, output counted.
#
# The load average is printed at the start and the end.
#
# Prints one line per measurement and a Markdown table of medians (and
# ranges).  Run: BUILD=build-x bench/snapshot.sh
set -uo pipefail
export LC_ALL=C
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${BUILD:-build}" && pwd) || exit 1
export BUILD
ROUNDS=${ROUNDS:-7}
SMALL=${SMALL:-1000}
LARGE=${LARGE:-100000}
NSNAP=${NSNAP:-10000}
# shellcheck source=tests/fuse_lib.sh
. "$HERE/../tests/fuse_lib.sh"
mnt=$work/mnt$SMALL
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"

die() { echo "bench/snapshot.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }
cell() { local v; read -ra v <<<"$1"; echo "$(median "${v[@]}") ($(range "${v[@]}"))"; }

write_files() {
  python3 - "$1" "$2" <<'EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
data = b"x" * 100
for i in range(n):
    sub = os.path.join(d, "d%03d" % (i // 1000))
    if i % 1000 == 0:
        os.mkdir(sub)
    with open(os.path.join(sub, "f%06d" % i), "wb") as f:
        f.write(data)
EOF
}

# ------------------------------------------------------------ (a) snapshot
# Both mounts live at once and the rounds alternate between them, so load
# from other work on the machine falls on both alike; SETTLE seconds of
# idling after the writes let the daemons finish their background flushes.
declare -A S=() W=()
for n in "$SMALL" "$LARGE"; do
  img=$work/snap$n.img m=$work/mnt$n
  mk_image "$img" 4G || die "newfs"
  hf_mount "$img" "$m" || die "mount"
  mkdir "$m/files" "$m/snaps" || die "mkdir"
  t0=$(now)
  write_files "$m/files" "$n" || die "writing the files"
  "$HAMMER" synctid "$m" >/dev/null || die "synctid"
  t1=$(now)
  W[$n]=$(elapsed "$t0" "$t1")
  got=$(find "$m/files" -type f | wc -l)
  [ "$got" -eq "$n" ] || die "$got files, want $n"
done
sleep "${SETTLE:-10}"
for ((r = 1; r <= ROUNDS; r++)); do
  for n in "$SMALL" "$LARGE"; do
    m=$work/mnt$n
    echo "round $r" >"$m/files/d000/f000000"
    t0=$(now)
    "$HAMMER" snapshot "$m" "$m/snaps/s$r" "round $r" >/dev/null || die "snapshot"
    t1=$(now)
    S[$n]+=" $(elapsed "$t0" "$t1")"
    [ "$(cat "$m/snaps/s$r/files/d000/f000000")" = "round $r" ] || die "snapshot $r content"
  done
done
for n in "$SMALL" "$LARGE"; do
  echo "$n files: written and synced in ${W[$n]} s; snapshot times:${S[$n]} s"
  hf_umount "$work/mnt$n" || die "unmount"
  "$HAMMER" -f "$work/snap$n.img" check >"$work/check.txt" 2>&1 ||
    die "check: $(tail -5 "$work/check.txt")"
done
rm -f "$work/snap$LARGE.img"

# ------------------------------------------------------------ (b) snapls
img=$work/snap$SMALL.img
hf_mount "$img" "$mnt" || die "mount"
durable=$("$HAMMER" synctid "$mnt") || die "synctid"
t0=$(now)
python3 - "$mnt" "$durable" "$NSNAP" <<'EOF' || die "snap-add"
import os, socket, sys, time
mnt, durable, n = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3])
st = os.stat(mnt)
sock = "/run/hammer-fuse/%d:%d.sock" % (os.major(st.st_dev), os.minor(st.st_dev))
ts = int(time.time()) * 1000000
tid, i = durable, 0
while i < n:
    tid -= 1                    # below the durable TID; taken ones skipped
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.sendall(("snap-add 0 0x%016x %d %s\n" % (tid, ts, ("bench %d" % i).encode().hex())).encode())
    reply = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        reply += b
    s.close()
    if reply.startswith(b"17 "):
        continue
    i += 1
    if not reply.startswith(b"0 "):
        sys.exit("snap-add %d: %s" % (i, reply.decode(errors="replace").strip()))
EOF
t1=$(now)
ADD_SEC=$(elapsed "$t0" "$t1")
echo "added $NSNAP snapshot records in $ADD_SEC s"
want=$((NSNAP + ROUNDS + 2))
L=""
for ((r = 1; r <= ROUNDS; r++)); do
  t0=$(now)
  "$HAMMER" snapls "$mnt" >"$work/snapls.txt" || die "snapls"
  t1=$(now)
  L+=" $(elapsed "$t0" "$t1")"
  got=$(wc -l <"$work/snapls.txt")
  [ "$got" -eq "$want" ] || die "snapls printed $got lines, want $want"
done
echo "snapls of $((NSNAP + ROUNDS)) snapshots:$L s"
hf_umount "$mnt" || die "unmount"
"$HAMMER" -f "$img" check >"$work/check.txt" 2>&1 || die "check: $(tail -5 "$work/check.txt")"

# ------------------------------------------------------------ table
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
read -ra a <<<"${S[$SMALL]}"; read -ra b <<<"${S[$LARGE]}"
ms=$(median "${a[@]}"); ml=$(median "${b[@]}")
echo
echo "| measurement | median (min-max) |"
echo "| --- | ---: |"
echo "| write and sync $SMALL files (s) | ${W[$SMALL]} |"
echo "| write and sync $LARGE files (s) | ${W[$LARGE]} |"
echo "| hammer snapshot, $SMALL files (s) | $(cell "${S[$SMALL]}") |"
echo "| hammer snapshot, $LARGE files (s) | $(cell "${S[$LARGE]}") |"
echo "| ratio $LARGE / $SMALL files (medians) | $(awk -v a="$ml" -v b="$ms" 'BEGIN { printf "%.2f", a / b }') |"
echo "| add $NSNAP records with snap-add, one run (s) | $ADD_SEC |"
echo "| hammer snapls, $((NSNAP + ROUNDS)) snapshots (s) | $(cell "$L") |"
