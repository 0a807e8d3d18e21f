#!/usr/bin/env bash
# blockdev.sh: real block devices through loop devices: size from
# BLKGETSIZE64, newfs and inspection on /dev/loopN, refusal of a read-only
# device opened for writing.  Skips (77) where loop devices are unavailable.
set -uo pipefail
B=${BUILD:?}
NEWFS=$B/cli/newfs_hammer HAMMER=$B/cli/hammer
work=$(mktemp -d "${TMPDIR:-/tmp}/hammer-blk.XXXXXX")
loops=()
cleanup() { for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
fail=0
truncate -s 200M "$work/disk.img"
dev=$(losetup --find --show "$work/disk.img" 2>/dev/null) || { echo "no loop devices: skip"; exit 77; }
loops+=("$dev")
if SOURCE_DATE_EPOCH=1795306471 "$NEWFS" -L BLK -f -u 8M "$dev" >"$work/out" 2>&1; then
  grep -q "size 200.00MB" "$work/out" || { echo "FAIL: newfs did not report the device size"; cat "$work/out"; fail=1; }
else
  echo "FAIL: newfs on $dev"; cat "$work/out"; fail=1
fi
"$HAMMER" -v -f "$dev" checkmap >"$work/cm" 2>&1 && grep -qx '0 errors' "$work/cm" \
  || { echo "FAIL: checkmap on $dev"; cat "$work/cm"; fail=1; }
"$HAMMER" -f "$dev" info >"$work/info" 2>&1 || { echo "FAIL: info on $dev"; cat "$work/info"; fail=1; }
rodev=$(losetup --find --show --read-only "$work/disk.img") || { echo "FAIL: losetup -r"; exit 1; }
loops+=("$rodev")
if "$NEWFS" -L RO -f -u 8M "$rodev" >"$work/ro" 2>&1; then
  echo "FAIL: newfs wrote to a read-only device"; fail=1
else
  grep -qi "read-only" "$work/ro" || { echo "FAIL: refusal does not say read-only:"; cat "$work/ro"; fail=1; }
fi
"$HAMMER" -f "$rodev" show >/dev/null 2>&1 || { echo "FAIL: read-only inspection of $rodev"; fail=1; }
[ $fail -eq 0 ] && echo "blockdev: all checks passed"
exit $fail
