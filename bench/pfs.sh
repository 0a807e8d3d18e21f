#!/usr/bin/env bash
# bench/pfs.sh: what PFSs cost, measured with the built binaries on
# hammer-fuse mounts (BUILD=dir, default "build"; needs /dev/fuse and
# fusermount3, as tests/fuse_lib.sh, whose mount helpers it uses).  On
# demand, not in CI; it never fails on a number, only when a step fails.
#
#   (a) pfs-destroy of a full PFS: a 4 GiB image, `hammer pfs-master`, then
#       FILES (10,000) files of 100 bytes written into the PFS through the
#       mount, `hammer synctid` (everything durable), then the wall time of
#       `hammer -y -d pfs-destroy` (-d: no countdown), which removes every
#       record of the PFS through the daemon.  ROUNDS (3) rounds, each on
#       a fresh image; the offline checker must find the image clean.
#   (b) daemon memory with NPFS (1,000) PFSs against the same kind of image
#       with none: one image gets NPFS `hammer pfs-master` in /pfs, the
#       other only the /pfs directory.  Each is then mounted ROUNDS times
#       by a fresh hammer-fuse, and VmRSS/VmHWM of the daemon
#       (/proc/PID/status) are read right after the mount and again after
#       `ls -l /pfs` and a stat of every PFS root (which enters each PFS).
#
# Prints one line per measurement and a Markdown table of medians (and
# ranges).  Run: BUILD=build-x bench/pfs.sh
set -uo pipefail
export LC_ALL=C
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${BUILD:-build}" && pwd) || exit 1
export BUILD
ROUNDS=${ROUNDS:-3}
FILES=${FILES:-10000}
NPFS=${NPFS:-1000}
# shellcheck source=tests/fuse_lib.sh
. "$HERE/../tests/fuse_lib.sh"
mnt=$work/mnt

die() { echo "bench/pfs.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# median of the arguments (numbers); "min-max" range
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }
# vm FIELD PID: the field of /proc/PID/status in MiB (one decimal)
vm() { awk -v f="$1:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$2/status"; }

# ------------------------------------------------------------ (a) destroy
declare -a D_SEC=() C_SEC=()
for ((r = 1; r <= ROUNDS; r++)); do
  img=$work/destroy.img
  mk_image "$img" 4G || die "newfs"
  hf_mount "$img" "$mnt" || die "mount"
  mkdir "$mnt/pfs" || die "mkdir"
  "$HAMMER" pfs-master "$mnt/pfs/bench" >"$work/out.txt" 2>&1 ||
    die "pfs-master: $(cat "$work/out.txt")"
  t0=$(now)
  python3 - "$mnt/pfs/bench" "$FILES" <<'EOF' || die "writing the files"
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
data = b"x" * 100
for i in range(n):
    sub = os.path.join(d, "d%03d" % (i // 1000))
    if i % 1000 == 0:
        os.mkdir(sub)
    with open(os.path.join(sub, "f%05d" % i), "wb") as f:
        f.write(data)
EOF
  t1=$(now)
  "$HAMMER" synctid "$mnt" >/dev/null || die "synctid"
  n=$(find "$mnt/pfs/bench/" -type f | wc -l)
  [ "$n" -eq "$FILES" ] || die "$n files in the PFS, want $FILES"
  t2=$(now)
  "$HAMMER" -y -d pfs-destroy "$mnt/pfs/bench" >"$work/out.txt" 2>&1 ||
    die "pfs-destroy: $(cat "$work/out.txt")"
  t3=$(now)
  grep -q "pfs-destroy of PFS#1 succeeded" "$work/out.txt" || die "pfs-destroy: $(cat "$work/out.txt")"
  [ -L "$mnt/pfs/bench" ] && die "the link is still there"
  hf_umount "$mnt" || die "unmount"
  "$HAMMER" -f "$img" check >"$work/check.txt" 2>&1 || die "check: $(tail -5 "$work/check.txt")"
  C_SEC+=("$(elapsed "$t0" "$t1")")
  D_SEC+=("$(elapsed "$t2" "$t3")")
  echo "destroy round $r: $FILES files written in ${C_SEC[-1]} s, pfs-destroy ${D_SEC[-1]} s, image clean"
  rm -f "$img"
done

# ------------------------------------------------------------ (b) memory
img0=$work/pfs0.img
imgN=$work/pfsN.img
mk_image "$img0" 4G || die "newfs"
hf_mount "$img0" "$mnt" || die "mount"
mkdir "$mnt/pfs" || die "mkdir"
hf_umount "$mnt" || die "unmount"
mk_image "$imgN" 4G || die "newfs"
hf_mount "$imgN" "$mnt" || die "mount"
mkdir "$mnt/pfs" || die "mkdir"
t0=$(now)
for ((i = 1; i <= NPFS; i++)); do
  "$HAMMER" pfs-master "$mnt/pfs/p$i" >"$work/out.txt" 2>&1 ||
    die "pfs-master #$i: $(cat "$work/out.txt")"
done
t1=$(now)
MK_SEC=$(elapsed "$t0" "$t1")
echo "created $NPFS PFSs in $MK_SEC s"
hf_umount "$mnt" || die "unmount"
"$HAMMER" -f "$imgN" check >"$work/check.txt" 2>&1 || die "check: $(tail -5 "$work/check.txt")"

declare -A M=()		# "kind,phase,field" -> values
for ((r = 1; r <= ROUNDS; r++)); do
  for kind in 0 N; do
    [ "$kind" = 0 ] && img=$img0 || img=$imgN
    hf_mount "$img" "$mnt" || die "mount"
    pid=${HF_PID[$mnt]}
    sleep 0.5
    M[$kind,mount,rss]+=" $(vm VmRSS "$pid")"
    M[$kind,mount,hwm]+=" $(vm VmHWM "$pid")"
    ls -l "$mnt/pfs" >/dev/null || die "ls"
    n=0
    for l in "$mnt"/pfs/*; do
      [ -e "$l" ] || continue
      stat -L "$l" >/dev/null || die "stat $l"
      n=$((n + 1))
    done
    [ "$kind" = 0 ] && want=0 || want=$NPFS
    [ "$n" -eq "$want" ] || die "$n PFS roots entered, want $want"
    M[$kind,walk,rss]+=" $(vm VmRSS "$pid")"
    M[$kind,walk,hwm]+=" $(vm VmHWM "$pid")"
    hf_umount "$mnt" || die "unmount"
  done
  echo "memory round $r: 0 PFSs: mount ${M[0,mount,rss]##* } MiB RSS, walked ${M[0,walk,rss]##* } MiB; $NPFS PFSs: mount ${M[N,mount,rss]##* } MiB, walked ${M[N,walk,rss]##* } MiB"
done

# ------------------------------------------------------------ table
cell() { local v; read -ra v <<<"$1"; echo "$(median "${v[@]}") ($(range "${v[@]}"))"; }
echo
echo "| measurement | median (min-max) |"
echo "| --- | ---: |"
echo "| write $FILES files of 100 B into a PFS (s) | $(cell "${C_SEC[*]}") |"
echo "| pfs-destroy of that PFS (s) | $(cell "${D_SEC[*]}") |"
echo "| create $NPFS PFSs with pfs-master, one run (s) | $MK_SEC |"
for kind in 0 N; do
  [ "$kind" = 0 ] && k="0 PFSs" || k="$NPFS PFSs"
  echo "| $k: VmRSS after mount (MiB) | $(cell "${M[$kind,mount,rss]}") |"
  echo "| $k: VmRSS after entering every PFS (MiB) | $(cell "${M[$kind,walk,rss]}") |"
  echo "| $k: VmHWM at the end (MiB) | $(cell "${M[$kind,walk,hwm]}") |"
done
