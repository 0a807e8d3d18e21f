#!/usr/bin/env bash
# newfs_reference.sh: our newfs_hammer, run with the inputs DragonFly's
# newfs_hammer had (size, label, -f, -u, -V, fsid, time), must reproduce each
# reference image byte for byte.  The only bytes allowed to differ are the
# CRCs DragonFly leaves wrong: vol_crc (header offset 156) of every volume and
# the zone 8 / zone 9 blockmap entry_crc (offsets 620 and 660) of volume 0.
# Ours must equal the correct values the reference analysis.txt computed.
#
# The comparison is sparse-aware (SEEK_DATA/SEEK_HOLE over both files), so
# the 16 GB image costs only its ~530 MB of data.  Reproduce one image with
#   BUILD=build-x HAMMER_SHARED=../shared bash tests/newfs_reference.sh v7-3vol
set -euo pipefail
: "${BUILD:?set BUILD to the meson build dir}"
SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}
export HAMMER_SHARED=${HAMMER_SHARED:-$SRC/../shared}
[ -d "$HAMMER_SHARED/reference" ] || { echo "SKIP: $HAMMER_SHARED/reference absent"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 needed for the sparse compare"; exit 77; }
NEWFS=$BUILD/cli/newfs_hammer
[ -x "$NEWFS" ] || { echo "FAIL: $NEWFS not built"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/newfs_ref.XXXXXX")
trap 'rm -rf "$work"' EXIT

# name | size | label | newfs options | fsid as printed | root inode time (us)
# (inputs copied from ../shared/reference/README.md, "What newfs chose")
cases=(
  "v7-1vol-1g|1G|REF1|-f -u 8M|a381fb52-b407-dc4f-b4be-5c83274d03cb|1795306471606999"
  "v7-1vol-16g|16G|REF16||b009c457-d134-7b47-adf8-6e632e806c5e|1795306481347937"
  "v7-3vol|1G|REF3|-f -u 8M|9e7cd097-69cf-e24a-859e-54825d33cb88|1795306481511842"
  "v6-1vol-1g|1G|REF6|-f -u 8M -V 6|9edbc0e1-acba-0c47-a274-6ce5b87586eb|1795306481893860"
)
only=${1:-}

# compare OURS REF VOLNO VERSION ANALYSIS: sparse byte compare with the
# excepted fields checked against analysis.txt's recomputed CRCs.
compare() {
  python3 - "$@" <<'EOF'
import os, re, struct, sys
ours, ref, volno, version, analysis, volname = sys.argv[1:7]
volno = int(volno); version = int(version)
text = open(analysis).read()
# the header section of this volume
sec = text.split("== volume header of " + volname + " ")[1].split("\n== ")[0]
def crc_table(poly):
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t
TAB = crc_table(0x82F63B78 if version >= 7 else 0xEDB88320)
def crc(b):
    c = 0xFFFFFFFF
    for x in b:
        c = TAB[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF

# vol_crc: correct = the CRC of our own header; where DragonFly's header has
# no stale field (volumes other than 0) analysis.txt's would-be value too.
m = re.search(r"vol_crc\s+0x([0-9a-f]{8})\s+\(would-be value: crc32 0x([0-9a-f]{8}), crc32c 0x([0-9a-f]{8})", sec)
with open(ours, "rb") as f:
    h = f.read(1928)
want = {156: crc(h[:156]) ^ crc(h[160:1928])}
names = {156: "vol_crc"}
if volno != 0 and want[156] != int(m.group(3) if version >= 7 else m.group(2), 16):
    print("FAIL: vol_crc of our header disagrees with analysis.txt"); sys.exit(1)
if volno == 0:
    for zone, off in ((8, 620), (9, 660)):
        z = re.search(r"zone\s+%d @\d+ .*crc=([0-9a-f]{8}) STALE \(calc over current bytes=([0-9a-f]{8})\)" % zone, sec)
        want[off] = int(z.group(2), 16)
        names[off] = "zone %d blockmap entry_crc" % zone

def extents(path):
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    out, pos = [], 0
    while pos < size:
        try:
            d = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            break
        h = os.lseek(fd, d, os.SEEK_HOLE)
        out.append((d, h)); pos = h
    os.close(fd)
    return size, out

so, eo = extents(ours)
sr, er = extents(ref)
if so != sr:
    print("FAIL: %s is %d bytes, reference %d" % (ours, so, sr)); sys.exit(1)
# union of data ranges; outside them both files read as zeros
ranges = sorted(eo + er)
merged = []
for a, b in ranges:
    if merged and a <= merged[-1][1]:
        merged[-1][1] = max(merged[-1][1], b)
    else:
        merged.append([a, b])
fo, fr = open(ours, "rb"), open(ref, "rb")
bad, compared = [], 0
CH = 8 << 20
for a, b in merged:
    pos = a
    while pos < b:
        n = min(CH, b - pos)
        fo.seek(pos); fr.seek(pos)
        x, y = fo.read(n), fr.read(n)
        compared += n
        if x != y:
            for s4 in range(0, n, 4096):
                if x[s4:s4 + 4096] == y[s4:s4 + 4096]:
                    continue
                for i in range(s4, min(n, s4 + 4096)):
                    if x[i] != y[i]:
                        off = pos + i
                        if not any(k <= off < k + 4 for k in want):
                            bad.append((off, x[i], y[i]))
        if len(bad) >= 20:
            break
        pos += n
fo.seek(0); fr.seek(0)
hdr_o, hdr_r = fo.read(1024), fr.read(1024)
for off in sorted(want):
    o = struct.unpack_from("<I", hdr_o, off)[0]
    r = struct.unpack_from("<I", hdr_r, off)[0]
    print("  excepted %-26s @%-4d ours %08x  DragonFly %08x  correct %08x" % (names[off], off, o, r, want[off]))
    if o != want[off]:
        bad.append((off, o, want[off]))
print("  compared %d bytes in %d data ranges of %d" % (compared, len(merged), so))
for off, o, r in bad:
    print("FAIL: %s differs at byte %d (0x%x): ours 0x%02x, reference 0x%02x" % (ours, off, off, o, r))
sys.exit(1 if bad else 0)
EOF
}

status=0
for c in "${cases[@]}"; do
  IFS='|' read -r name size label opts fsid tus <<<"$c"
  [ -n "$only" ] && [ "$only" != "$name" ] && continue
  rc=0; refs=$(bash "$SRC/tests/refimg.sh" "$name") || rc=$?
  [ $rc -eq 77 ] && { echo "SKIP: reference $name absent"; exit 77; }
  [ $rc -ne 0 ] && { echo "FAIL: cannot decompress reference $name"; exit 1; }
  IFS=: read -r -a refv <<<"$refs"
  ours=()
  for r in "${refv[@]}"; do
    f=$work/$name-$(basename "$r"); truncate -s "$size" "$f"; ours+=("$f")
  done
  version=7; [[ $opts == *"-V 6"* ]] && version=6
  echo "== $name: newfs_hammer -L $label $opts --fsid $fsid --time-us $tus (${#ours[@]} volume(s) of $size)"
  # shellcheck disable=SC2086
  if ! "$NEWFS" -L "$label" $opts --fsid "$fsid" --time-us "$tus" "${ours[@]}" >"$work/out" 2>"$work/err"; then
    echo "FAIL: $name: newfs_hammer failed:"; cat "$work/err"; status=1; continue
  fi
  for i in "${!refv[@]}"; do
    vname=$(basename "${refv[$i]}")
    echo " volume $i ($vname)"
    compare "${ours[$i]}" "${refv[$i]}" "$i" "$version" \
      "$HAMMER_SHARED/reference/$name/analysis.txt" "$vname" || status=1
  done
  rm -f "${ours[@]}"
done
[ $status -eq 0 ] && echo "PASS: every reference image reproduced (only the excepted CRCs differ)"
exit $status
