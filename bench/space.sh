#!/usr/bin/env bash
# bench/space.sh: space reclamation on hammer-fuse mounts, measured with the
# built binaries (BUILD=dir, default "build"; needs /dev/fuse and
# fusermount3, as tests/fuse_lib.sh, whose mount helpers it uses).  On
# demand, not in CI; it never fails on a number, only when a step fails
# (a command exits non-zero, the two churned trees differ, the checker
# finds a problem).  QUICK=1: a small run of about a minute.
#
#   (a) churn, two 4 GiB images side by side.  FILES (500) files of mixed
#       sizes (55% 0.5-12 KiB, 35% 16-768 KiB, 10% 1-6 MiB), then CYCLES
#       (48) cycles; each rewrites 8% of the files whole (new size), appends
#       1-96 KiB to 8%, overwrites 1-4 regions of 4-16 KiB in place in 6%,
#       deletes 4% and creates as many new ones, then `hammer synctid`.
#       The cycle's operations come from a seeded PRNG (SEED, 1) and go to
#       both mounts alike.  Mount A is never cleaned.  Mount B gets a
#       cleanup every K (6) cycles, in DragonFly's `hammer cleanup` order:
#       every SNAP_EVERY (2K) cycles `hammer snapshot`, keeping the newest
#       KEEP (2) (older ones `hammer snaprm`), then `hammer prune` of the
#       snapshot directory, `hammer rebalance`, `hammer reblock 90`.  Used
#       space is statfs (blocks - bfree) after two synctids.  At the end A
#       gets one cleanup too (a snapshot, prune, rebalance, reblock 90) to
#       show its space coming back, the two trees must read the same, and
#       the checker must find both images clean.
#   (b) reblock throughput: per round a fresh image, REBLOCK_MB (512) MiB
#       written with dd (bs=1M, from a file in the page cache) + `hammer
#       synctid`, timed; then `hammer reblock MNT` (fill 100: moves all) +
#       synctid, timed.  MB/s moved = its "data bytes" line / wall time;
#       the ratio to the dd MB/s of the same round.  Medians of ROUNDS (3).
#       These mounts get -o cache=RB_CACHE (256M): with the default 64 MiB
#       cache a full reblock of 128 MiB or more of data fails with ENOBUFS
#       and leaves the mount unable to flush (bench/README.md).  Each round
#       also times the same dd + synctid on a fresh mount with the default
#       options, a second peer (ratio "reblock / dd, default mount").
#   (c) prune records per second: per round a fresh image, PFILES (2,000)
#       files of 1 KiB rewritten VERSIONS (20) times with a synctid after
#       each pass, a snapshot after the first and after the last pass,
#       then `hammer prune DIR` timed; records/s from its "Pruned X/Y
#       records" line.  Medians of ROUNDS.
#
# The bound checked in (a), after each cleanup of B:
#   used <= base + (D + 256 x R) / 0.9 + 4 big-blocks (32 MiB)
# base: used space of the fresh file system (statfs); D: the data bytes
# of every record the kept snapshots and the history after the newest one
# still need (live data included), as the engine sizes records (16 KiB
# blocks below 1 MiB, 64 KiB from there, one record of size rounded to 16
# for files of at most 8 KiB); R: how many records (data, inode and
# directory entry) that is, each allowed 256 B of B-tree and meta-data.
# /0.9: reblock 90 leaves big-blocks that are at least 90% full; 4
# big-blocks: the ones each zone is still filling.  The model runs in the
# churn script, per cycle, from the same operations.
#
# Output: one line per measurement, a CSV (bench/results/space/churn.csv,
# cycles against used MiB of both runs and the bound) and Markdown tables.
# Run: BUILD=build-x bench/space.sh   (QUICK=1 for the small run)
set -uo pipefail
export LC_ALL=C
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${BUILD:-build}" && pwd) || exit 1
export BUILD
if [ "${QUICK:-0}" = 1 ]; then
  ROUNDS=${ROUNDS:-1} FILES=${FILES:-150} CYCLES=${CYCLES:-12} K=${K:-3}
  REBLOCK_MB=${REBLOCK_MB:-128} PFILES=${PFILES:-500} VERSIONS=${VERSIONS:-6}
else
  ROUNDS=${ROUNDS:-3} FILES=${FILES:-500} CYCLES=${CYCLES:-48} K=${K:-6}
  REBLOCK_MB=${REBLOCK_MB:-512} PFILES=${PFILES:-2000} VERSIONS=${VERSIONS:-20}
fi
SNAP_EVERY=${SNAP_EVERY:-$((2 * K))}
KEEP=${KEEP:-2}
SEED=${SEED:-1}
RB_CACHE=${RB_CACHE:-256M}
OUT=${OUT:-$HERE/results/space}
# shellcheck source=tests/fuse_lib.sh
. "$HERE/../tests/fuse_lib.sh"
mkdir -p "$OUT" || exit 1
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "FILES=$FILES CYCLES=$CYCLES K=$K SNAP_EVERY=$SNAP_EVERY KEEP=$KEEP SEED=$SEED ROUNDS=$ROUNDS REBLOCK_MB=$REBLOCK_MB RB_CACHE=$RB_CACHE PFILES=$PFILES VERSIONS=$VERSIONS"

die() { echo "bench/space.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }
cell() { local v; read -ra v <<<"$1"; echo "$(median "${v[@]}") ($(range "${v[@]}"))"; }
check() {
  "$HAMMER" -f "$1" check >"$work/check.txt" 2>&1 || die "check $1: $(tail -5 "$work/check.txt")"
}

# ------------------------------------------------------------ (a) churn
ma=$work/a mb=$work/b
mk_image "$work/a.img" 4G || die "newfs"
mk_image "$work/b.img" 4G || die "newfs"
hf_mount "$work/a.img" "$ma" || die "mount"
hf_mount "$work/b.img" "$mb" || die "mount"
mkdir "$ma/data" "$ma/snaps" "$mb/data" "$mb/snaps" || die "mkdir"
t0=$(now)
python3 - "$HAMMER" "$ma" "$mb" "$FILES" "$CYCLES" "$K" "$SNAP_EVERY" "$KEEP" "$SEED" \
  "$OUT/churn.csv" "$work/churn.md" <<'EOF' || die "churn"
import os, random, re, subprocess, sys, time

HAMMER, A, B = sys.argv[1:4]
NFILES, CYCLES, K, SNAP_EVERY, KEEP, SEED = map(int, sys.argv[4:10])
CSV, MD = sys.argv[10:12]
MiB, BIG = 1 << 20, 8 << 20
ELEM = 256                      # B-tree + meta-data bytes allowed per record

def run(*args):
    p = subprocess.run([HAMMER, *args], capture_output=True, text=True)
    if p.returncode:
        sys.exit("hammer %s: exit %d: %s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p.stdout

def used(m):
    run("synctid", m); run("synctid", m)
    s = os.statvfs(m)
    return (s.f_blocks - s.f_bfree) * s.f_frsize

# ---- the model: records as the engine sizes them (ref/file.c rec_len)
recs = {}                       # id -> [data bytes, created cycle, deleted cycle or None]
next_id = [0]
def rec_new(n, c):
    next_id[0] += 1
    recs[next_id[0]] = [n, c, None]
    return next_id[0]
def rec_del(r, c):
    recs[r][2] = c

def blk(off):
    return 16384 if off < MiB else 65536
def rec_len(base, size):
    if base == 0 and size <= 8192:
        return (size + 15) & ~15
    return blk(base)

class F:                        # one file: name, size, block base -> record, inode and dirent records
    def __init__(self, name, c):
        self.name, self.size, self.blocks = name, 0, {}
        self.ino = rec_new(0, c)
        self.dirent = rec_new(0, c)
    def touch(self, c):         # one inode record version per cycle (written at the flush)
        if recs[self.ino][1] != c:
            rec_del(self.ino, c)
            self.ino = rec_new(0, c)
    def write(self, off, n, c):
        size = max(self.size, off + n)
        pos = off
        while pos < off + n:
            base = pos - pos % blk(pos)
            self.put(base, rec_len(base, size), c)
            pos = base + blk(pos)
        self.size = size
        self.touch(c)
    def put(self, base, n, c):
        r = self.blocks.get(base)
        if r is not None and recs[r][1] == c:
            recs[r][0] = n      # rewritten in place within its cycle
            return
        if r is not None:
            rec_del(r, c)
        self.blocks[base] = rec_new(n, c)
    def truncate0(self, c):
        for r in self.blocks.values():
            rec_del(r, c)
        self.blocks, self.size = {}, 0
        self.touch(c)
    def delete(self, c):
        self.truncate0(c)
        rec_del(self.ino, c)
        rec_del(self.dirent, c)

def needed(snaps, now):
    """Data bytes and records kept after a prune: those visible at a kept
    snapshot, those after the newest one, and the live ones."""
    newest = max(snaps) if snaps else None
    d = n = 0
    for size, cr, de in recs.values():
        if de is None:
            keep = True
        elif newest is None:
            keep = True         # no snapshot: prune keeps everything
        else:
            keep = de > newest or any(cr <= s < de for s in snaps)
        if keep:
            d += size
            n += 1
    return d, n

def all_history():
    return sum(r[0] for r in recs.values()), len(recs)

# ---- the workload
rng = random.Random(SEED)
pool = random.Random(SEED + 1).randbytes(16 * MiB)
def content(n):
    o = rng.randrange(len(pool) - n)
    return pool[o:o + n]
def draw_size():
    x = rng.random()
    if x < 0.55:
        return rng.randrange(512, 12 * 1024)
    if x < 0.90:
        return rng.randrange(16 * 1024, 768 * 1024)
    return rng.randrange(1 * MiB, 6 * MiB)

files = []
serial = [0]
def op_create(c):
    serial[0] += 1
    f = F("f%06d" % serial[0], c)
    n = draw_size()
    data = content(n)
    for m in (A, B):
        with open(os.path.join(m, "data", f.name), "wb") as fh:
            fh.write(data)
    f.write(0, n, c)
    files.append(f)
def op_rewrite(f, c):
    n = draw_size()
    data = content(n)
    for m in (A, B):
        with open(os.path.join(m, "data", f.name), "wb") as fh:
            fh.write(data)
    f.truncate0(c)
    f.write(0, n, c)
def op_append(f, c):
    n = rng.randrange(1024, 96 * 1024)
    data = content(n)
    for m in (A, B):
        with open(os.path.join(m, "data", f.name), "ab") as fh:
            fh.write(data)
    f.write(f.size, n, c)
def op_overwrite(f, c):
    for _ in range(rng.randrange(1, 5)):
        n = rng.randrange(4096, 16384)
        if f.size <= n:
            return
        off = rng.randrange(0, f.size - n) & ~4095
        data = content(n)
        for m in (A, B):
            with open(os.path.join(m, "data", f.name), "r+b") as fh:
                fh.seek(off)
                fh.write(data)
        f.write(off, n, c)
def op_delete(f, c):
    for m in (A, B):
        os.unlink(os.path.join(m, "data", f.name))
    f.delete(c)
    files.remove(f)

base = used(B)
for _ in range(NFILES):
    op_create(0)
run("synctid", A); run("synctid", B)
snaps = []                      # cycles of B's kept snapshots
rows = []
live0 = sum(r[0] for r in recs.values() if r[2] is None)
print("cycle 0: base %.0f MiB, live data %.1f MiB, A %.0f MiB, B %.0f MiB"
      % (base / MiB, live0 / MiB, used(A) / MiB, used(B) / MiB), flush=True)
tcy = []
tclean = {"snapshot": [], "prune": [], "rebalance": [], "reblock": []}
for c in range(1, CYCLES + 1):
    t = time.monotonic()
    pick = rng.sample(files, len(files))
    n8, n6, n4 = len(files) * 8 // 100, len(files) * 6 // 100, len(files) * 4 // 100
    for f in pick[:n8]:
        op_rewrite(f, c)
    for f in pick[n8:2 * n8]:
        op_append(f, c)
    for f in pick[2 * n8:2 * n8 + n6]:
        op_overwrite(f, c)
    for f in pick[2 * n8 + n6:2 * n8 + n6 + n4]:
        op_delete(f, c)
    for _ in range(n4):
        op_create(c)
    run("synctid", A); run("synctid", B)
    tcy.append(time.monotonic() - t)
    if c % K:
        continue
    live = sum(r[0] for r in recs.values() if r[2] is None)
    hist, _ = all_history()
    ua, ub0 = used(A), used(B)
    # cleanup of B, in hammer cleanup's order
    if c % SNAP_EVERY == 0:
        t = time.monotonic()
        run("snapshot", B, os.path.join(B, "snaps", "c%04d" % c))
        tclean["snapshot"].append(time.monotonic() - t)
        snaps.append(c)
        while len(snaps) > KEEP:
            run("snaprm", os.path.join(B, "snaps", "c%04d" % snaps.pop(0)))
    t = time.monotonic()
    out = run("prune", os.path.join(B, "snaps"))
    tclean["prune"].append(time.monotonic() - t)
    m = re.search(r"^Pruned (\d+)/(\d+) records", out, re.M)
    if not m and snaps:
        sys.exit("prune printed no Pruned line: " + out)
    npruned = int(m.group(1)) if m else 0   # no snapshot yet: "No snapshots found"
    ub1 = used(B)
    t = time.monotonic()
    run("rebalance", B)
    tclean["rebalance"].append(time.monotonic() - t)
    t = time.monotonic()
    out = run("reblock", B, "90")
    tclean["reblock"].append(time.monotonic() - t)
    if "succeeded" not in out:
        sys.exit("reblock: " + out)
    ub2 = used(B)
    d, n = needed(snaps, c)
    bound = base + (d + ELEM * n) / 0.9 + 4 * BIG
    ok = ub2 <= bound
    rows.append((c, live, hist, ua, ub0, ub1, ub2, d, n, bound, ok, npruned))
    print("cycle %d: live %.1f MiB, history %.1f MiB; A %.0f MiB; B %.0f -> prune %.0f -> "
          "rebalance+reblock %.0f MiB (pruned %s records); B needs %.1f MiB in %d records, "
          "bound %.0f MiB: %s" % (c, live / MiB, hist / MiB, ua / MiB, ub0 / MiB, ub1 / MiB,
          ub2 / MiB, npruned, d / MiB, n, bound / MiB, "holds" if ok else "EXCEEDED"),
          flush=True)

# A's one cleanup at the end: all its history goes, its space comes back
ua0 = used(A)
run("snapshot", A, os.path.join(A, "snaps", "final"))
out = run("prune", os.path.join(A, "snaps"))
m = re.search(r"^Pruned (\d+)/(\d+) records.* and (\d+) bytes", out, re.M)
ua1 = used(A)
run("rebalance", A)
run("reblock", A, "90")
ua2 = used(A)
d, n = needed([CYCLES], CYCLES)
bound_a = base + (d + ELEM * n) / 0.9 + 4 * BIG
print("A at the end: %.0f MiB -> prune %.0f MiB (%s/%s records, %s bytes) -> rebalance+reblock "
      "%.0f MiB; needs %.1f MiB, bound %.0f MiB: %s" % (ua0 / MiB, ua1 / MiB, m.group(1),
      m.group(2), m.group(3), ua2 / MiB, d / MiB, bound_a / MiB,
      "holds" if ua2 <= bound_a else "EXCEEDED"), flush=True)

with open(CSV, "w") as fh:
    fh.write("cycle,live_mib,history_mib,A_used_mib,B_before_cleanup_mib,B_after_prune_mib,"
             "B_after_reblock_mib,B_needed_mib,B_needed_records,bound_mib,bound_holds,pruned_records\n")
    for r in rows:
        fh.write("%d,%.1f,%.1f,%.0f,%.0f,%.0f,%.0f,%.1f,%d,%.0f,%s,%d\n" % (
            r[0], r[1] / MiB, r[2] / MiB, r[3] / MiB, r[4] / MiB, r[5] / MiB, r[6] / MiB,
            r[7] / MiB, r[8], r[9] / MiB, "yes" if r[10] else "no", r[11]))
med = lambda v: sorted(v)[len(v) // 2] if v else 0
with open(MD, "w") as fh:
    fh.write("| cycles | live data | A: used (no cleanup) | B: before cleanup | B: after prune "
             "| B: after rebalance + reblock 90 | B needs (model) | bound | holds |\n")
    fh.write("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
    for r in rows:
        fh.write("| %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %s |\n" % (
            r[0], r[1] / MiB, r[3] / MiB, r[4] / MiB, r[5] / MiB, r[6] / MiB,
            r[7] / MiB, r[9] / MiB, "yes" if r[10] else "**no**"))
    fh.write("\nMiB; base (fresh file system) %.0f MiB; A after its one cleanup at the end: "
             "%.0f -> %.0f MiB (after prune) -> %.0f MiB (after rebalance + reblock 90), "
             "bound %.0f MiB.\n" % (base / MiB, ua0 / MiB, ua1 / MiB, ua2 / MiB, bound_a / MiB))
    fh.write("Cycle (both mounts, synctid included) median %.2f s; B's cleanup steps, median s: "
             "snapshot %.3f, prune %.3f, rebalance %.3f, reblock 90 %.3f.\n" % (
             med(tcy), med(tclean["snapshot"]), med(tclean["prune"]),
             med(tclean["rebalance"]), med(tclean["reblock"])))
if not all(r[10] for r in rows):
    print("note: the bound was exceeded (see the table)")
EOF
t1=$(now)
echo "churn: $(elapsed "$t0" "$t1") s"
diff -r "$ma/data" "$mb/data" >/dev/null || die "the two churned trees differ"
hf_umount "$ma" || die "unmount"
hf_umount "$mb" || die "unmount"
check "$work/a.img"
check "$work/b.img"
rm -f "$work/a.img" "$work/b.img"
echo "churned trees equal, both images clean"

# ------------------------------------------------------------ (b) reblock
m=$work/m
head -c "$((REBLOCK_MB << 20))" /dev/urandom >"$work/src" || die "source file"
cat "$work/src" >/dev/null
declare -a W_MBS=() R_MBS=() RATIO=() R_SEC=() R_BYTES=() W0_MBS=() RATIO0=()
# dd_mbs MNT: MB/s of dd of the source file + synctid
dd_mbs() {
  local t0 t1
  t0=$(now)
  dd if="$work/src" of="$1/big" bs=1M status=none || die "dd"
  "$HAMMER" synctid "$1" >/dev/null || die "synctid"
  t1=$(now)
  awk -v b="$((REBLOCK_MB << 20))" -v s="$(elapsed "$t0" "$t1")" 'BEGIN { printf "%.0f", b / s / 1e6 }'
}
for ((r = 1; r <= ROUNDS; r++)); do
  mk_image "$work/r.img" 4G || die "newfs"
  hf_mount "$work/r.img" "$m" || die "mount"
  "$HAMMER" synctid "$m" >/dev/null || die "synctid"
  w0=$(dd_mbs "$m") || exit 1
  W0_MBS+=("$w0")
  hf_umount "$m" || die "unmount"
  mk_image "$work/r.img" 4G || die "newfs"
  hf_mount "$work/r.img" "$m" -o "cache=$RB_CACHE" || die "mount"
  "$HAMMER" synctid "$m" >/dev/null || die "synctid"
  w=$(dd_mbs "$m") || exit 1
  t1=$(now)
  out=$("$HAMMER" reblock "$m" 2>&1) || die "reblock: $out"
  "$HAMMER" synctid "$m" >/dev/null || die "synctid"
  t2=$(now)
  grep -q "^Reblock $m succeeded$" <<<"$out" || die "reblock: $out"
  moved=$(sed -n 's/^ *\([0-9]*\)\/[0-9]* data bytes$/\1/p' <<<"$out")
  [ "${moved:-0}" -ge $((REBLOCK_MB << 20)) ] || die "reblock moved ${moved:-?} bytes: $out"
  cmp -s "$work/src" "$m/big" || die "the file reads differently after the reblock"
  rs=$(elapsed "$t1" "$t2")
  rm=$(awk -v b="$moved" -v s="$rs" 'BEGIN { printf "%.0f", b / s / 1e6 }')
  W_MBS+=("$w") R_MBS+=("$rm") R_SEC+=("$rs") R_BYTES+=("$moved")
  RATIO+=("$(awk -v a="$rm" -v b="$w" 'BEGIN { printf "%.2f", a / b }')")
  RATIO0+=("$(awk -v a="$rm" -v b="${W0_MBS[-1]}" 'BEGIN { printf "%.2f", a / b }')")
  echo "reblock round $r: dd+synctid $w MB/s (default mount ${W0_MBS[-1]} MB/s); reblock+synctid moved $moved bytes in $rs s, $rm MB/s; ratio ${RATIO[-1]} (${RATIO0[-1]})"
  hf_umount "$m" || die "unmount"
  check "$work/r.img"
  rm -f "$work/r.img"
done
rm -f "$work/src"

# ------------------------------------------------------------ (c) prune
declare -a P_RPS=() P_SPS=() P_SEC=() P_REC=() P_SCAN=() P_BUILD=()
for ((r = 1; r <= ROUNDS; r++)); do
  mk_image "$work/p.img" 4G || die "newfs"
  hf_mount "$work/p.img" "$m" || die "mount"
  mkdir "$m/d" "$m/snaps" || die "mkdir"
  t0=$(now)
  python3 - "$HAMMER" "$m" "$PFILES" "$VERSIONS" <<'EOF' || die "history"
import os, subprocess, sys
H, m, n, v = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for ver in range(v):
    data = (b"%08d" % ver) * 128
    for i in range(n):
        with open(os.path.join(m, "d", "f%05d" % i), "wb") as f:
            f.write(data)
    subprocess.run([H, "synctid", m], check=True, stdout=subprocess.DEVNULL)
    if ver in (0, v - 1):
        subprocess.run([H, "snapshot", m, os.path.join(m, "snaps", "v%d" % ver)],
                       check=True, stdout=subprocess.DEVNULL)
EOF
  t1=$(now)
  out=$("$HAMMER" prune "$m/snaps" 2>&1) || die "prune: $out"
  t2=$(now)
  rec=$(sed -n 's/^Pruned \([0-9]*\)\/\([0-9]*\) records.*/\1/p' <<<"$out")
  scan=$(sed -n 's/^Pruned \([0-9]*\)\/\([0-9]*\) records.*/\2/p' <<<"$out")
  [ "${rec:-0}" -gt 0 ] || die "prune removed nothing: $out"
  ps=$(elapsed "$t1" "$t2")
  P_BUILD+=("$(elapsed "$t0" "$t1")") P_SEC+=("$ps") P_REC+=("$rec") P_SCAN+=("$scan")
  P_RPS+=("$(awk -v a="$rec" -v s="$ps" 'BEGIN { printf "%.0f", a / s }')")
  P_SPS+=("$(awk -v a="$scan" -v s="$ps" 'BEGIN { printf "%.0f", a / s }')")
  # the first and last versions are still there
  [ "$(head -c 8 "$m/snaps/v0/d/f00000")" = "00000000" ] || die "snapshot v0 content"
  [ "$(head -c 8 "$m/d/f00000")" = "$(printf %08d $((VERSIONS - 1)))" ] || die "live content"
  echo "prune round $r: history of $VERSIONS versions of $PFILES files built in ${P_BUILD[-1]} s; pruned $rec/$scan records in $ps s: ${P_RPS[-1]} records/s removed, ${P_SPS[-1]} scanned/s"
  hf_umount "$m" || die "unmount"
  check "$work/p.img"
  rm -f "$work/p.img"
done

# ------------------------------------------------------------ tables
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
cat "$work/churn.md"
echo
echo "| measurement | median (min-max) |"
echo "| --- | ---: |"
echo "| dd $REBLOCK_MB MiB + synctid, default mount (MB/s) | $(cell "${W0_MBS[*]}") |"
echo "| dd $REBLOCK_MB MiB + synctid, cache=$RB_CACHE mount (MB/s) | $(cell "${W_MBS[*]}") |"
echo "| hammer reblock + synctid: data bytes moved | $(median "${R_BYTES[@]}") |"
echo "| hammer reblock + synctid (s) | $(cell "${R_SEC[*]}") |"
echo "| hammer reblock, moved (MB/s) | $(cell "${R_MBS[*]}") |"
echo "| reblock / dd, same mount, per round | $(cell "${RATIO[*]}") |"
echo "| reblock / dd, default mount, per round | $(cell "${RATIO0[*]}") |"
echo "| build history: $VERSIONS versions of $PFILES files (s) | $(cell "${P_BUILD[*]}") |"
echo "| hammer prune: records removed / scanned | $(median "${P_REC[@]}") / $(median "${P_SCAN[@]}") |"
echo "| hammer prune (s) | $(cell "${P_SEC[*]}") |"
echo "| hammer prune, records removed per s | $(cell "${P_RPS[*]}") |"
echo "| hammer prune, records scanned per s | $(cell "${P_SPS[*]}") |"
