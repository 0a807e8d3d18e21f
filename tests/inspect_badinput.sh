#!/usr/bin/env bash
# inspect_badinput.sh: feed `hammer` broken inputs and check that every one
# gets a clear message naming the problem and a non-zero exit, never a
# crash.  Structure-level corruptions (one flipped bit in each on-disk
# structure) must leave the dump running: exit status 2 and the problem
# counted.  Works on a sparse copy of the v7-1vol-1g reference image in
# $BUILD; each case patches the copy and restores it afterwards.
# Offsets (file offsets in volume 0, see ../shared/reference/README.md):
#   header 0, layer-1 array 0x88000, layer-2 array 0x888000, UNDO FIFO
#   0x1088000, root B-tree node 0x1888000, inode data 0x2088000, PFS data
#   0x2088080.
set -u
HAMMER=${BUILD:?}/cli/hammer
img0=$(bash "$SRC/tests/refimg.sh" v7-1vol-1g) || exit $?
vols=$(bash "$SRC/tests/refimg.sh" v7-3vol) || exit $?
IFS=: read -r v0 v1 v2 <<<"$vols"
work=$BUILD/inspect_badinput
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
img=$work/img
cp --sparse=always "$img0" "$img"
VG=()
if command -v valgrind >/dev/null && [ -z "${NO_VALGRIND:-}" ]; then
  VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect)
fi
fail=0

# run WANT_RC PATTERN [valgrind] -- args: run hammer, check exit status and
# that PATTERN (extended regex) appears in stdout+stderr.
run() {
  local want=$1 pat=$2 vg=$3; shift 4
  local rc
  if [ "$vg" = vg ] && [ ${#VG[@]} -gt 0 ]; then
    "${VG[@]}" "$HAMMER" "$@" >"$work/out" 2>"$work/err"; rc=$?
  else
    "$HAMMER" "$@" >"$work/out" 2>"$work/err"; rc=$?
  fi
  if [ $rc -ge 128 ]; then
    echo "FAIL [$case] hammer $*: killed by signal $((rc - 128))"; fail=1; return
  fi
  if [ $rc = 99 ]; then
    echo "FAIL [$case] hammer $*: valgrind errors:"; head -n 30 "$work/err"; fail=1; return
  fi
  if [ "$rc" != "$want" ]; then
    echo "FAIL [$case] hammer $*: exit $rc, expected $want"; tail -n 5 "$work/err"; fail=1; return
  fi
  if ! cat "$work/out" "$work/err" | grep -Eq -- "$pat"; then
    echo "FAIL [$case] hammer $*: no message matching /$pat/"; tail -n 5 "$work/err"; fail=1; return
  fi
  echo "ok   [$case] hammer $* -> $rc"
}

# patch OFFSET HEXBYTES: overwrite bytes of $img (saving the old ones)
patch() {
  saved_off=$1
  saved_len=$(( ${#2} / 2 ))
  dd if="$img" of="$work/saved" bs=1 skip=$(( $1 )) count=$saved_len status=none
  printf "$(sed 's/../\\x&/g' <<<"$2")" |
    dd of="$img" bs=1 seek=$(( $1 )) conv=notrunc status=none
}
# flip OFFSET MASK: flip bits in one byte
flip() {
  local b
  b=$(dd if="$img" bs=1 skip=$(( $1 )) count=1 status=none | od -An -tu1 | tr -d ' ')
  patch "$1" "$(printf %02x $(( b ^ $2 )))"
}
restore() {
  dd if="$work/saved" of="$img" bs=1 seek=$(( saved_off )) conv=notrunc status=none
}

# ---- whole-file problems: the volume set does not open
case=empty;      : >"$work/empty"
run 1 "too small" no -- -f "$work/empty" show
case=missing-file
run 1 "[Nn]o such file" no -- -f "$work/nope" blockmap
case=truncated;  cp --sparse=always "$img0" "$work/trunc"; truncate -s 512M "$work/trunc"
run 1 "truncated" no -- -f "$work/trunc" show
rm -f "$work/trunc"
case=zeroed-header
patch 0 "$(printf '0%.0s' $(seq 1 4096))"
run 1 "not a HAMMER volume" no -- -f "$img" blockmap; restore
case=wrong-signature; flip 3 0x01
run 1 "bad signature" no -- -f "$img" show; restore
case=byte-swapped-signature; patch 0 c8414d4dc5523031
run 1 "byte-swapped" no -- -f "$img" show; restore
case=header-version-bit; flip 152 0x10
run 1 "unsupported HAMMER version" no -- -f "$img" show; restore
case=header-count-bit; flip 148 0x02
run 1 "missing|vol_count" no -- -f "$img" show; restore
case=header-fstype-bit; flip 70 0x01
run 1 "vol_fstype" no -- -f "$img" show; restore
case=duplicate-volume
run 1 "duplicate volume number" no -- -f "$v0:$v0:$v1" show
case=missing-volume
run 1 "volume 2 of 3 is missing" no -- -f "$v0:$v1" show
case=wrong-fsid; cp --sparse=always "$v2" "$work/v2"
printf '\x55' | dd of="$work/v2" bs=1 seek=50 conv=notrunc status=none
run 1 "different file system" no -- -f "$v0:$v1:$work/v2" show
rm -f "$work/v2"

# ---- usage errors
case=unknown-command
run 1 "unknown command" no -- -f "$img" frobnicate
case=no-device
run 1 "needs the volumes" no -- show
case=bad-filter
run 1 "bad obj_id" no -- -f "$img" show 1:xyz
case=bad-show-option
run 1 "unknown option" no -- -f "$img" show none wibble

# ---- one flipped bit in each structure: the dump goes on, exit 2
case=header-btree-root; flip 244 0x01     # vol0_btree_root -> a zero area
run 2 "bad nodes" vg -- -f "$img" show
run 2 "bad nodes" no -- -f "$img" checkmap; restore
case=blockmap-entry; flip 424 0x80        # vol0_blockmap[4].phys_offset
run 2 "bad layer1|not a zone-2" no -- -f "$img" blockmap
run 2 "entry CRC" no -- -f "$img" blockmap; restore
case=layer1; flip $((0x88000)) 0x01      # layer1[0].blocks_free
run 2 "1 bad layer1" vg -- -f "$img" -v blockmap
run 2 "layer-1 entry 2000000000000000 has a bad CRC" no -- -f "$img" checkmap
run 2 "z8:v0:0:3:0=B4.*|1 bad freemap lookups" no -- -f "$img" show; restore
case=layer2; flip $((0x888000 + 3*16 + 8)) 0x01   # layer2[3].bytes_free (btree)
run 2 "1 bad layer2" no -- -f "$img" blockmap
run 2 "layer-2 entry 2000000000800030 has a bad CRC" vg -- -f "$img" checkmap; restore
case=layer2-consistent-lie                # bytes_free wrong but CRC right
python3 - "$img" <<'PY' || { echo "FAIL python patch"; fail=1; }
import sys, struct
def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF
f = open(sys.argv[1], 'r+b'); off = 0x888000 + 3*16
f.seek(off)
e = bytearray(f.read(16))
open(sys.argv[1] + '.saved', 'wb').write(bytes(e))
struct.pack_into('<i', e, 8, 8388608 - 8192)
struct.pack_into('<I', e, 12, crc32c(bytes(e[:12])))
f.seek(off); f.write(e)
PY
run 2 "BM	block=2000000001800000 zone=8  calc 8384512 free, got 8380416" vg -- -f "$img" checkmap
dd if="$img.saved" of="$img" bs=1 seek=$((0x888000 + 48)) conv=notrunc status=none
case=node; flip $((0x1888000 + 64 + 8)) 0x01   # root leaf elm 0 key
run 2 "1 bad nodes" vg -- -f "$img" show
run 2 "B    NODE 8000000001800000" no -- -f "$img" checkmap; restore
case=node-count; flip $((0x1888000 + 17)) 0x01   # count = 258
run 2 "element count out of range" vg -- -f "$img" show
run 2 "1 bad nodes" no -- -f "$img" checkmap; restore
case=inode-data; flip $((0x2088000 + 80)) 0x01   # inode size
run 2 "error=BX" vg -- -f "$img" show
run 2 "1 bad records" no -- -f "$img" show
restore
case=inode-atime; flip $((0x2088000 + 120)) 0x01  # atime: not CRC-covered
run 0 "icrc=ec5235fe" no -- -f "$img" show; restore
case=pfs-data; flip $((0x2088080 + 80)) 0x01    # PFS label
run 2 "error=BX" vg -- -f "$img" show
run 2 "corrupt structures" no -- -f "$img" info; restore
case=fifo-record; flip $((0x1088000 + 8)) 0x01   # first DUMMY's seq
run 2 "3000000000000000 DUMMY\(512\).*error=crc" no -- -f "$img" show-undo
run 2 "1 bad records" no -- -f "$img" show-undo
run 2 "BU	3000000000000000.*CRC mismatch" no -- -f "$img" checkmap; restore
case=fifo-size; flip $((0x1088000 + 200*512 + 5)) 0x04  # hdr_size 512 -> 1536
run 2 "Illegal size field" no -- -f "$img" show-undo
run 2 "illegal size" no -- -f "$img" checkmap; restore
case=fifo-signature; flip $((0x1088000 + 512)) 0x01
run 2 "error=signature" no -- -f "$img" show-undo; restore
case=undo-alloc; flip $((264 + 3*40 + 24 + 7)) 0x40  # zone 3 alloc_offset -> 7000...
run 2 "alloc_offset" no -- -f "$img" show-undo
run 2 "alloc_offset" no -- -f "$img" checkmap; restore
case=pristine-after-restore
run 0 "0 bad nodes" no -- -f "$img" -v show
run 0 "0 errors" no -- -f "$img" -v checkmap
exit $fail
