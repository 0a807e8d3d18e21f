#!/usr/bin/env bash
# fuse_memory.sh (suite slow): the daemon's memory stays within the bound
# fuse/README.md documents, cache x 1.25 + 48 MiB, on a 1 TB sparse image:
# for two cache sizes, write 3 GiB scattered over 32 sparse 64 GiB files in
# 1 MiB pieces, 20,000 random 4 KiB writes and 5,000 small files, flush,
# read everything back (verified), and compare the daemon's peak RSS
# (VmHWM) with the bound.  Needs ~4 GiB of free space in $TMPDIR.
# Run alone: BUILD=build-x bash tests/fuse_memory.sh
. "$(dirname "$0")/fuse_lib.sh"

img=$work/tera.img
M=$work/mnt
rm -f "$img"; truncate -s 1T "$img"
"$NEWFS" -L TERA -f "$img" >"$work/newfs.log" 2>&1 || { cat "$work/newfs.log"; exit 1; }
avail=$(df -k --output=avail "$work" | tail -1)
[ "$avail" -gt $((5 * 1024 * 1024)) ] || { echo "SKIP: less than 5 GiB free in $work"; exit 77; }

cat > "$work/work.py" <<'EOF'
# work.py DIR ROUND write|read: a seeded, verifiable scattered workload
import os, random, sys
d, rnd, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(rnd)
MiB = 1 << 20
big = [(rng.randrange(32), rng.randrange(64 << 10) * MiB) for _ in range(3072)]
small = [rng.randrange(1 << 18) * 4096 for _ in range(20000)]
def pat(tag, off, n):
    return ((tag * 1000003 + off).to_bytes(8, 'little')) * (n // 8)
bad = 0
fds = {}
def fd(name):
    if name not in fds:
        fds[name] = os.open(f"{d}/{name}", (os.O_RDWR | os.O_CREAT) if mode == "write" else os.O_RDONLY, 0o644)
    return fds[name]
for f, off in big:
    if mode == "write": os.pwrite(fd(f"r{rnd}.f{f}"), pat(f, off, MiB), off)
    elif os.pread(fd(f"r{rnd}.f{f}"), MiB, off) != pat(f, off, MiB): bad += 1
final = {}
for off in small: final[off] = True
for off in small:
    if mode == "write": os.pwrite(fd(f"r{rnd}.rand"), pat(99, off, 4096), off)
for off in final:
    if mode == "read" and os.pread(fd(f"r{rnd}.rand"), 4096, off) != pat(99, off, 4096): bad += 1
for k in range(5000):
    p = f"{d}/r{rnd}.d{k % 50}/s{k}"
    if mode == "write":
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as o: o.write(pat(k, 0, 512))
    else:
        with open(p, "rb") as i:
            if i.read() != pat(k, 0, 512): bad += 1
for x in fds.values(): os.close(x)
print(f"{mode}: {bad} bad")
sys.exit(1 if bad else 0)
EOF

round=0
for cache_mb in 32 128; do
  round=$((round + 1))
  hf_mount "$img" "$M" -o cache=${cache_mb}M,flush=5 || { fail "cache ${cache_mb}M: mount"; continue; }
  pid=${HF_PID[$M]}
  python3 "$work/work.py" "$M" $round write >/dev/null || fail "cache ${cache_mb}M: writes"
  "$HAMMER" synctid "$M" >/dev/null || fail "cache ${cache_mb}M: synctid"
  out=$(python3 "$work/work.py" "$M" $round read) || fail "cache ${cache_mb}M: read back" "$out"
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
  limit=$(( cache_mb * 1024 * 5 / 4 + 48 * 1024 ))
  echo "cache ${cache_mb} MiB: peak RSS $((hwm / 1024)) MiB (bound $((limit / 1024)) MiB)"
  if [ "$hwm" -le "$limit" ]; then ok "cache ${cache_mb}M: peak RSS within cache x 1.25 + 48 MiB"
  else fail "cache ${cache_mb}M: peak RSS" "$hwm kB > $limit kB"; fi
  hf_umount "$M" || fail "cache ${cache_mb}M: unmount"
done
check_image "$img" "checker clean"
finish
