#!/usr/bin/env bash
# bench/mirror.sh BUILD_DIR [WORKDIR]: mirroring side by side, in one run:
#   hammer   `hammer mirror-copy` from a master PFS to a slave PFS, on two
#            hammer-fuse mounts of sparse images (full, then incremental)
#   btrfs    `btrfs send | btrfs receive` between two btrfs file systems on
#            loop devices (full from a read-only snapshot, then incremental
#            with -p)
#   rsync    `rsync -a` between two ext4 loop mounts
# Data: FILES small files (default 20,000; the sorted list of files under
# /usr/include, /usr/share/doc, /usr/share/man, ... of at most 256 KiB,
# taken in order and cycled if short) in 100 folders, plus a BIG_MB MiB
# random file (default 1024; AES-CTR of zeros under a fixed key: the same
# bytes everywhere).  Incremental: 1% of the small files (every 100th)
# rewritten with new bytes of the same size and 64 MiB rewritten inside the
# big file (python3 random with a fixed seed).  Every timed step starts with
# the page cache dropped and ends with `sync -f` of the destination, so each
# system's time includes making its copy durable.
#
# Reports (markdown table at the end, raw numbers in WORKDIR/results.tsv):
# wall time medians of ROUNDS rounds (default 3; each round builds fresh
# file systems), MB/s, stream bytes (hammer: `hammer mirror-read | wc -c`;
# btrfs: `btrfs send | wc -c`; rsync: --stats "Total bytes sent"), the
# hammer/btrfs throughput ratio, incremental stream bytes against the
# changed bytes, the incremental time with FILES against SCALE_FILES
# (default 200,000) unchanged files (same 200 changed files; no big file),
# and mirror-stream's lag (a write on the master until it is readable on
# the slave, LAG_SAMPLES samples, default 20; master mounted with flush=5
# and `hammer -i 1 mirror-stream`, as in docs/mirroring-guide.md; a second
# series with `sync -f` of the master after each write).
#
# Without the mirror commands (hammer's usage has no mirror-copy) the
# hammer columns say "n/a" and the peers still run.  Quick run, e.g.:
#   ROUNDS=1 FILES=2000 BIG_MB=128 SCALE_FILES=20000 LAG_SAMPLES=5 bench/mirror.sh build
# Run as root, on demand (not in CI): loop devices, mounts, drop_caches.
# SYSTEMS="hammer btrfs rsync" chooses which run; SCALE=0 skips the
# scaling runs, LAG=0 the lag samples.
set -euo pipefail
export LC_ALL=C
BUILD=$(cd "${1:?usage: bench/mirror.sh BUILD_DIR [WORKDIR]}" && pwd)
W=${2:-$(mktemp -d "${TMPDIR:-/var/tmp}/mirbench.XXXXXX")}
mkdir -p "$W"
W=$(cd "$W" && pwd)
ROUNDS=${ROUNDS:-3}
FILES=${FILES:-20000}
BIG_MB=${BIG_MB:-1024}
SCALE_FILES=${SCALE_FILES:-200000}
LAG_SAMPLES=${LAG_SAMPLES:-20}
SYSTEMS=${SYSTEMS:-hammer btrfs rsync}
SCALE=${SCALE:-1}
LAG=${LAG:-1}
CHANGED_FILES=$(( (FILES + 99) / 100 ))
HAMMER=$BUILD/cli/hammer
NEWFS=$BUILD/cli/newfs_hammer
HELPER=$BUILD/fuse/mount.fuse.hammer
RES=$W/results.tsv
: > "$RES"

[ "$(id -u)" -eq 0 ] || { echo "bench/mirror.sh: run as root (losetup, mounts, drop_caches)"; exit 1; }
for p in "$HAMMER" "$NEWFS" "$HELPER"; do [ -x "$p" ] || { echo "bench/mirror.sh: $p not built"; exit 1; }; done
for c in mkfs.btrfs btrfs rsync mkfs.ext4 openssl python3; do
  command -v "$c" >/dev/null || { echo "bench/mirror.sh: $c missing (scripts/deps.sh installs btrfs-progs, rsync)"; exit 1; }
done
HAVE_MIRROR=1
"$HAMMER" -h 2>&1 | grep -q 'mirror-copy' || HAVE_MIRROR=0
[ "$HAVE_MIRROR" = 1 ] || echo "bench/mirror.sh: this hammer has no mirror-copy: the hammer parts are skipped (n/a)"

MNTS=()		# our mount points, innermost last
LOOPS=()	# our loop devices
STREAM_PID=
cleanup() {
  set +e
  [ -n "$STREAM_PID" ] && { kill "$STREAM_PID" 2>/dev/null; wait "$STREAM_PID" 2>/dev/null; }
  local i
  for ((i=${#MNTS[@]}-1; i>=0; i--)); do
    mountpoint -q "${MNTS[$i]}" && { umount "${MNTS[$i]}" 2>/dev/null || umount -l "${MNTS[$i]}"; }
  done
  for i in "${LOOPS[@]}"; do losetup -d "$i" 2>/dev/null; done
  rm -f "$W"/*.img
}
trap cleanup EXIT

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
# only our file systems: a global sync(1) would also wait for every other
# mount of the machine (a hung FUSE mount of someone else blocks it)
sync_mine() { local m; for m in "${MNTS[@]}" "$W"; do sync -f "$m"; done; }
drop() { sync_mine; echo 3 > /proc/sys/vm/drop_caches; }
now() { date +%s.%N; }
rec() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$RES"; }	# system metric round value
# timed SYS METRIC ROUND CMD...: drop caches, run, record seconds
timed() {
  local sys=$1 metric=$2 round=$3; shift 3
  drop
  local t0 t1; t0=$(now)
  "$@" || return 1
  t1=$(now)
  local s; s=$(python3 -c "print(f'{$t1-$t0:.3f}')")
  rec "$sys" "$metric" "$round" "$s"
  log "$sys $metric round $round: ${s}s"
}
umount_mine() {	# umount_mine DIR...: unmount and forget
  local d i
  for d in "$@"; do
    mountpoint -q "$d" && umount "$d"
    for i in "${!MNTS[@]}"; do [ "${MNTS[$i]}" = "$d" ] && unset 'MNTS[i]'; done
  done
  MNTS=("${MNTS[@]}")
}
loop_free() {	# loop_free DEV...
  local d i
  for d in "$@"; do
    losetup -d "$d" 2>/dev/null || true
    for i in "${!LOOPS[@]}"; do [ "${LOOPS[$i]}" = "$d" ] && unset 'LOOPS[i]'; done
  done
  LOOPS=("${LOOPS[@]}")
}

# ------------------------------------------------------------------ data
DATA=$W/data
changes() {	# changes DIR [BIG]: the incremental change set; prints changed bytes
  python3 - "$1" "$FILES" "${2:-1}" <<'EOF'
import os, random, sys
root, files, big = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
rng = random.Random(20260514)
changed = 0
for i in range(0, files, 100):
    p = os.path.join(root, "small", "d%03d" % (i // 200), "f%05d" % i)
    n = os.path.getsize(p)
    with open(p, "r+b") as f:
        f.write(rng.randbytes(n))
    changed += n
if big:
    p = os.path.join(root, "big")
    size = os.path.getsize(p)
    off = min(256 << 20, max(0, size - (64 << 20))) & ~0xffff
    with open(p, "r+b") as f:
        f.seek(off)
        for _ in range(64):
            f.write(rng.randbytes(1 << 20))
    changed += 64 << 20
print(changed)
EOF
}
make_data() {
  if [ -f "$DATA/.done-$FILES-$BIG_MB" ]; then log "data set: reusing $DATA"; return; fi
  rm -rf "$DATA"; mkdir -p "$DATA/small"
  log "data set: $FILES small files, a $BIG_MB MiB random file"
  python3 - "$DATA/small" "$FILES" <<'EOF'
import os, shutil, sys
dst, n = sys.argv[1], int(sys.argv[2])
roots = ["/usr/include", "/usr/share/doc", "/usr/share/man", "/usr/share/locale",
         "/usr/lib/python3", "/usr/share/perl", "/usr/share/zoneinfo"]
src = []
for r in roots:
    for d, dirs, fs in os.walk(r):
        dirs.sort()
        for f in fs:
            p = os.path.join(d, f)
            try:
                if os.path.isfile(p) and not os.path.islink(p) and os.path.getsize(p) <= 256 * 1024:
                    src.append(p)
            except OSError:
                pass
src.sort()
if not src:
    sys.exit("no source files")
for i in range(n):
    d = os.path.join(dst, "d%03d" % (i // 200))
    if i % 200 == 0:
        os.makedirs(d, exist_ok=True)
    shutil.copyfile(src[i % len(src)], os.path.join(d, "f%05d" % i))
EOF
  head -c "$((BIG_MB << 20))" /dev/zero |
    openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass pass:hammer-mirror-bench 2>/dev/null > "$DATA/big"
  touch -d @1700000000 "$DATA/big"
  touch "$DATA/.done-$FILES-$BIG_MB"
}
make_data
DATA_BYTES=$(du -sb --apparent-size --exclude='.done-*' "$DATA" | awk '{print $1}')
SMALL_BYTES=$(du -sb --apparent-size "$DATA/small" | awk '{print $1}')
log "data: $DATA_BYTES bytes ($SMALL_BYTES in $FILES small files)"
fill() {	# fill DST [COPIES]: the data set (COPIES>1: the small files only, COPIES times)
  local dst=$1 copies=${2:-1} k
  if [ "$copies" = 1 ]; then
    cp -a "$DATA/small" "$DATA/big" "$dst/"
  else
    mkdir -p "$dst/small"
    cp -a "$DATA/small/." "$dst/small/"
    for ((k=2; k<=copies; k++)); do cp -a "$DATA/small" "$dst/copy$k"; done
  fi
}

# ------------------------------------------------------------------ hammer
HM=$W/hm HS=$W/hs
hammer_setup() {	# fresh master PFS $HM/pfs/m and slave $HS/pfs/s
  local img
  for img in h1 h2; do rm -f "$W/$img.img"; truncate -s 64G "$W/$img.img"
    "$NEWFS" -L "$img" "$W/$img.img" >/dev/null 2>&1; done
  mkdir -p "$HM" "$HS"
  "$HELPER" "$W/h1.img" "$HM" -o "rw,flush=5"; MNTS+=("$HM")
  "$HELPER" "$W/h2.img" "$HS" -o rw; MNTS+=("$HS")
  mkdir "$HM/pfs" "$HS/pfs"
  local shared
  shared=$("$HAMMER" pfs-master "$HM/pfs/m" | sed -n 's/^[[:space:]]*shared-uuid=//p')
  "$HAMMER" pfs-slave "$HS/pfs/s" "shared-uuid=$shared" >/dev/null
}
hammer_teardown() { umount_mine "$HS" "$HM"; rm -f "$W/h1.img" "$W/h2.img"; }
# the begin TID of the next incremental run: the slave's sync_end_tid + 1
# (mirror-read's begin-tid is inclusive; mirror-copy itself starts there:
# "Mirror from <sync_end_tid + 1>")
slave_tid() {
  local t; t=$("$HAMMER" pfs-status "$HS/pfs/s" | sed -n 's/^[[:space:]]*sync-end-tid=//p')
  printf '0x%016x\n' $((t + 1))
}
hammer_copy() {
  local st=0
  "$HAMMER" mirror-copy "$HM/pfs/m" "$HS/pfs/s" > "$W/hcopy.out" 2>&1 || st=$?
  if [ "$st" != 0 ]; then echo "hammer mirror-copy: exit $st:"; head -20 "$W/hcopy.out"; return 1; fi
  sync -f "$HS"
}

hammer_round() {
  local r=$1 tid bytes changed
  hammer_setup
  fill "$HM/pfs/m"; sync_mine
  if ! timed hammer full_s "$r" hammer_copy; then
    log "hammer: mirror-copy failed (exit status, output above): the hammer parts are skipped (n/a)"
    HAVE_MIRROR=0; hammer_teardown; return 0
  fi
  bytes=$("$HAMMER" mirror-read "$HM/pfs/m" 2>/dev/null | wc -c); rec hammer full_bytes "$r" "$bytes"
  diff -r "$HM/pfs/m" "$HS/pfs/s" >/dev/null || { echo "hammer: slave differs after the full copy"; exit 1; }
  tid=$(slave_tid)
  changed=$(changes "$HM/pfs/m"); rec hammer changed_bytes "$r" "$changed"; sync_mine
  timed hammer inc_s "$r" hammer_copy || { echo "hammer: incremental mirror-copy failed"; exit 1; }
  bytes=$("$HAMMER" mirror-read "$HM/pfs/m" "$tid" 2>/dev/null | wc -c); rec hammer inc_bytes "$r" "$bytes"
  diff -r "$HM/pfs/m" "$HS/pfs/s" >/dev/null || { echo "hammer: slave differs after the incremental copy"; exit 1; }
  if [ "$LAG" = 1 ] && [ "$r" = 1 ]; then hammer_lag; fi
  hammer_teardown
}
hammer_lag() {
  "$HAMMER" -i 1 mirror-stream "$HM/pfs/m" "$HS/pfs/s" > "$W/stream.log" 2>&1 &
  STREAM_PID=$!
  sleep 2
  local mode i t0 t1 f
  for mode in write sync; do
    for ((i=0; i<LAG_SAMPLES; i++)); do
      f=lag-$mode-$i
      echo "$f $RANDOM" > "$HM/pfs/m/$f"
      [ "$mode" = sync ] && sync -f "$HM"
      t0=$(now)
      until cmp -s "$HM/pfs/m/$f" "$HS/pfs/s/$f" 2>/dev/null; do
        sleep 0.01
        if python3 -c "import sys; sys.exit(0 if $(now)-$t0 > 120 else 1)"; then
          echo "hammer: $f not on the slave after 120 s"; tail -5 "$W/stream.log"; exit 1
        fi
      done
      t1=$(now)
      rec hammer "lag_${mode}_s" "$i" "$(python3 -c "print(f'{$t1-$t0:.3f}')")"
    done
    log "hammer lag ($mode): $LAG_SAMPLES samples"
  done
  kill -TERM "$STREAM_PID"; wait "$STREAM_PID" || true; STREAM_PID=
}

# ------------------------------------------------------------------ btrfs
BM=$W/bm BS=$W/bs
btrfs_setup() {
  local img dev
  for img in b1 b2; do rm -f "$W/$img.img"; truncate -s 16G "$W/$img.img"
    dev=$(losetup -f --show "$W/$img.img"); LOOPS+=("$dev")
    mkfs.btrfs -q -f "$dev" >/dev/null; done
  mkdir -p "$BM" "$BS"
  mount "${LOOPS[-2]}" "$BM"; MNTS+=("$BM")
  mount "${LOOPS[-1]}" "$BS"; MNTS+=("$BS")
  btrfs -q subvolume create "$BM/src" >/dev/null
}
btrfs_teardown() {
  local d1 d2; d1=$(findmnt -n -o SOURCE "$BM"); d2=$(findmnt -n -o SOURCE "$BS")
  umount_mine "$BS" "$BM"; loop_free "$d1" "$d2"; rm -f "$W/b1.img" "$W/b2.img"
}
btrfs_full() {
  btrfs -q subvolume snapshot -r "$BM/src" "$BM/snap1" >/dev/null
  btrfs -q send "$BM/snap1" | btrfs -q receive "$BS"
  sync -f "$BS"
}
btrfs_inc() {
  btrfs -q subvolume snapshot -r "$BM/src" "$BM/snap2" >/dev/null
  btrfs -q send -p "$BM/snap1" "$BM/snap2" | btrfs -q receive "$BS"
  sync -f "$BS"
}
btrfs_round() {
  local r=$1 bytes changed
  btrfs_setup
  fill "$BM/src"; sync_mine
  timed btrfs full_s "$r" btrfs_full
  bytes=$(btrfs -q send "$BM/snap1" | wc -c); rec btrfs full_bytes "$r" "$bytes"
  changed=$(changes "$BM/src"); rec btrfs changed_bytes "$r" "$changed"; sync_mine
  timed btrfs inc_s "$r" btrfs_inc
  bytes=$(btrfs -q send -p "$BM/snap1" "$BM/snap2" | wc -c); rec btrfs inc_bytes "$r" "$bytes"
  diff -r "$BM/snap2" "$BS/snap2" >/dev/null || { echo "btrfs: received copy differs"; exit 1; }
  btrfs_teardown
}

# ------------------------------------------------------------------ rsync
EM=$W/em ES=$W/es
rsync_setup() {
  local img dev
  for img in e1 e2; do rm -f "$W/$img.img"; truncate -s 16G "$W/$img.img"
    dev=$(losetup -f --show "$W/$img.img"); LOOPS+=("$dev")
    mkfs.ext4 -q -F "$dev"; done
  mkdir -p "$EM" "$ES"
  mount "${LOOPS[-2]}" "$EM"; MNTS+=("$EM")
  mount "${LOOPS[-1]}" "$ES"; MNTS+=("$ES")
  mkdir "$EM/src"
}
rsync_teardown() {
  local d1 d2; d1=$(findmnt -n -o SOURCE "$EM"); d2=$(findmnt -n -o SOURCE "$ES")
  umount_mine "$ES" "$EM"; loop_free "$d1" "$d2"; rm -f "$W/e1.img" "$W/e2.img"
}
rsync_copy() { rsync -a --stats "$EM/src/" "$ES/src/" > "$W/rsync.stats"; sync -f "$ES"; }
rsync_sent() { sed -n 's/^Total bytes sent: //p' "$W/rsync.stats" | tr -d ,; }
rsync_round() {
  local r=$1 changed
  rsync_setup
  fill "$EM/src"; sync_mine
  timed rsync full_s "$r" rsync_copy
  rec rsync full_bytes "$r" "$(rsync_sent)"
  changed=$(changes "$EM/src"); rec rsync changed_bytes "$r" "$changed"; sync_mine
  timed rsync inc_s "$r" rsync_copy
  rec rsync inc_bytes "$r" "$(rsync_sent)"
  diff -r "$EM/src" "$ES/src" >/dev/null || { echo "rsync: copy differs"; exit 1; }
  rsync_teardown
}

# ------------------------------------------------------------------ scaling
# incremental time with n unchanged small files: the same CHANGED_FILES
# files changed, no big file
scale_run() {
  local sys=$1 n=$2 copies=$(( $2 / FILES ))
  [ "$copies" -ge 1 ] || copies=1
  log "$sys: scaling run with $((copies * FILES)) files"
  case $sys in
    hammer)
      hammer_setup; fill "$HM/pfs/m" "$copies"; sync_mine
      hammer_copy || { echo "hammer: mirror-copy failed"; exit 1; }
      local tid; tid=$(slave_tid)
      changes "$HM/pfs/m" 0 >/dev/null; sync_mine
      timed hammer "inc_s_${n}" 1 hammer_copy || { echo "hammer: mirror-copy failed"; exit 1; }
      rec hammer "inc_bytes_${n}" 1 "$("$HAMMER" mirror-read "$HM/pfs/m" "$tid" 2>/dev/null | wc -c)"
      hammer_teardown ;;
    btrfs)
      btrfs_setup; fill "$BM/src" "$copies"; sync_mine; btrfs_full
      changes "$BM/src" 0 >/dev/null; sync_mine
      timed btrfs "inc_s_${n}" 1 btrfs_inc
      btrfs_teardown ;;
    rsync)
      rsync_setup; fill "$EM/src" "$copies"; sync_mine; rsync_copy
      changes "$EM/src" 0 >/dev/null; sync_mine
      timed rsync "inc_s_${n}" 1 rsync_copy
      rsync_teardown ;;
  esac
}

run_sys() {	# run_sys SYS FN ARGS...: hammer only with the mirror commands
  if [ "$1" = hammer ] && [ "$HAVE_MIRROR" = 0 ]; then return 0; fi
  shift; "$@"
}
for ((r=1; r<=ROUNDS; r++)); do
  for sys in $SYSTEMS; do
    log "round $r: $sys"
    run_sys "$sys" "${sys}_round" "$r"
  done
done
if [ "$SCALE" = 1 ]; then
  for sys in $SYSTEMS; do
    run_sys "$sys" scale_run "$sys" "$FILES"
    run_sys "$sys" scale_run "$sys" "$SCALE_FILES"
  done
fi

# ------------------------------------------------------------------ table
python3 - "$RES" "$DATA_BYTES" "$FILES" "$SCALE_FILES" "$BIG_MB" "$ROUNDS" "$HAVE_MIRROR" <<'EOF'
import statistics, sys
from collections import defaultdict
res, data_bytes, files, scale, big_mb, rounds, have = sys.argv[1:]
data_bytes, files, scale = int(data_bytes), int(files), int(scale)
v = defaultdict(list)
for line in open(res):
    s, m, r, x = line.rstrip("\n").split("\t")
    v[(s, m)].append(float(x))
def med(s, m):
    xs = v.get((s, m))
    return statistics.median(xs) if xs else None
def pct(s, m, p):
    xs = sorted(v.get((s, m), []))
    if not xs: return None
    k = (len(xs) - 1) * p / 100
    lo = int(k); hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)
def rng(s, m):
    xs = v.get((s, m))
    return f" ({min(xs):.2f}-{max(xs):.2f})" if xs and len(xs) > 1 else ""
def secs(s, m):
    x = med(s, m); return "n/a" if x is None else f"{x:.2f}{rng(s, m)}"
def num(x): return "n/a" if x is None else f"{x:,.0f}"
systems = ["hammer", "btrfs", "rsync"]
names = {"hammer": "hammer mirror-copy", "btrfs": "btrfs send/receive", "rsync": "rsync -a (ext4)"}
rows = []
rows.append(("full: time, s (median" + (f" of {rounds}" if int(rounds) > 1 else "") + ")", [secs(s, "full_s") for s in systems]))
rows.append(("full: MB/s", ["n/a" if med(s, "full_s") is None else f"{data_bytes / med(s, 'full_s') / 1e6:.0f}" for s in systems]))
rows.append(("full: stream bytes", [num(med(s, "full_bytes")) for s in systems]))
rows.append(("incremental: time, s", [secs(s, "inc_s") for s in systems]))
rows.append(("incremental: changed bytes", [num(med(s, "changed_bytes")) for s in systems]))
rows.append(("incremental: stream bytes", [num(med(s, "inc_bytes")) for s in systems]))
rows.append(("incremental: stream / changed", ["n/a" if med(s, "inc_bytes") is None or not med(s, "changed_bytes") else f"{med(s, 'inc_bytes') / med(s, 'changed_bytes'):.3f}" for s in systems]))
for n in (files, scale):
    rows.append((f"incremental, {n:,} small files: time, s", [secs(s, f"inc_s_{n}") for s in systems]))
rows.append((f"incremental time {scale:,} / {files:,} files", ["n/a" if med(s, f"inc_s_{scale}") is None or med(s, f"inc_s_{files}") is None else f"{med(s, f'inc_s_{scale}') / med(s, f'inc_s_{files}'):.2f}x" for s in systems]))
rows.append((f"incremental stream bytes, {files:,} / {scale:,} files", [(num(med(s, f"inc_bytes_{files}")) + " / " + num(med(s, f"inc_bytes_{scale}"))) if s == "hammer" else "-" for s in systems]))
for mode, label in (("write", "write"), ("sync", "write + sync")):
    p50, p99 = pct("hammer", f"lag_{mode}_s", 50), pct("hammer", f"lag_{mode}_s", 99)
    cell = "n/a" if p50 is None else f"{p50:.2f} / {p99:.2f}"
    rows.append((f"mirror-stream lag p50 / p99, s ({label})", [cell, "-", "-"]))
print()
print(f"Data: {files:,} small files + {big_mb} MiB random file = {data_bytes:,} bytes; rounds: {rounds}")
print()
print("| | " + " | ".join(names[s] for s in systems) + " |")
print("| --- | " + " | ".join("---:" for _ in systems) + " |")
for label, cells in rows:
    print(f"| {label} | " + " | ".join(cells) + " |")
h, b = med("hammer", "full_s"), med("btrfs", "full_s")
print()
if h and b:
    print(f"hammer / btrfs full throughput: {b / h:.2f}x (goal: at least 0.5x)")
    hb, bb = med("hammer", "full_bytes"), med("btrfs", "full_bytes")
    if hb and bb: print(f"hammer / btrfs full stream bytes: {hb / bb:.3f}")
else:
    print("hammer / btrfs full throughput: n/a" + ("" if have == "1" else " (hammer skipped: no working mirror-copy)"))
EOF
echo "raw numbers: $RES"
