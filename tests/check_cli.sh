#!/usr/bin/env bash
# check_cli.sh: `hammer -f IMG check` as a program.  A fresh newfs_hammer
# image is clean (exit 0); damaged copies exit 2 and name the finding code;
# usage and open errors exit 1.  Offsets come from `hammer show`, not from
# a fixed layout.  Run alone: BUILD=build-x SRC=. bash tests/check_cli.sh
set -uo pipefail
: "${BUILD:?set BUILD to the meson build dir}"
HAMMER=$BUILD/cli/hammer
NEWFS=$BUILD/cli/newfs_hammer
for p in "$HAMMER" "$NEWFS"; do
  [ -x "$p" ] || { echo "FAIL: $p not built"; exit 1; }
done
SRC=$(cd "${SRC:-$(dirname "$0")/..}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/check_cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fails=0

# run NAME WANT_STATUS PATTERN -- ARGS: exit status and an output line
run() {
  local name=$1 want=$2 pat=$3; shift 4
  "$HAMMER" "$@" >out.txt 2>err.txt
  local st=$?
  if [ "$st" -ge 128 ]; then
    echo "FAIL [$name]: killed by signal $((st - 128)): hammer $*"; fails=$((fails+1)); return
  fi
  if [ "$st" -ne "$want" ]; then
    echo "FAIL [$name]: exit $st, want $want: hammer $*"; cat out.txt err.txt | tail -n 20
    fails=$((fails+1)); return
  fi
  if [ -n "$pat" ] && ! cat out.txt err.txt | grep -Eq -- "$pat"; then
    echo "FAIL [$name]: no line matching /$pat/: hammer $*"; cat out.txt err.txt | tail -n 20
    fails=$((fails+1)); return
  fi
  echo "ok   [$name] exit $st"
}

# flip BYTE_OFFSET: invert one byte of copy.img
flip() {
  local off=$1 b
  b=$(dd if=copy.img bs=1 skip="$off" count=1 status=none | od -An -tu1 | tr -d ' ')
  printf "$(printf '\\%03o' $(( b ^ 0xff )))" |
    dd of=copy.img bs=1 seek="$off" conv=notrunc status=none
}

truncate -s 1G fresh.img
"$NEWFS" -L CHECK -f -u 8M fresh.img >/dev/null 2>&1 || { echo "FAIL: newfs_hammer"; exit 1; }

run "fresh image"     0 '^check: 0 errors, 0 warnings$' -- -f fresh.img check
run "fresh -v"        0 '^scanned: 1 B-tree nodes, 2 records, 1 live inodes' -- -v -f fresh.img check
run "fresh -q"        0 '^check: 0 errors' -- -q -f fresh.img check

# where things are: volume 0's vol_buf_beg and the root inode's data
buf_beg=$(od -An -t d8 -j 24 -N 8 fresh.img | tr -d ' ')
inode_off=$("$HAMMER" -f fresh.img show 2>/dev/null |
  grep -o 'dataoff=9[0-9a-f]\{15\}/128' | head -n 1 | sed 's/dataoff=//; s/\/128//')
node_off=$("$HAMMER" -f fresh.img show 2>/dev/null |
  sed -n 's/.* NODE \([0-9a-f]\{16\}\) .*/\1/p' | head -n 1)
if [ -z "$inode_off" ] || [ -z "$node_off" ] || [ -z "$buf_beg" ]; then
  echo "FAIL: could not find the root inode / node in 'hammer show'"; exit 1
fi
short() { echo $(( 0x$1 & 0x000FFFFFFFFFFFFF )); }

# the root inode's nlinks byte (offset 72): its data CRC no longer matches
cp --sparse=always fresh.img copy.img
flip $(( buf_beg + $(short "$inode_off") + 72 ))
run "inode damaged"   2 '^IN_CRC	lo=00000001 obj=0000000000000001 rt=01 ' -- -f copy.img check
run "summary"         2 '^check: 1 error, 0 warnings$' -- -f copy.img check
run "quiet"           2 '^check: 1 error' -- -qq -f copy.img check
if grep -q '^IN_CRC' out.txt; then
  echo "FAIL [quiet]: -qq printed a finding"; fails=$((fails+1))
fi

# a byte of the root B-tree node: BTREE_CRC (and the record scan stops)
cp --sparse=always fresh.img copy.img
flip $(( buf_beg + $(short "$node_off") + 200 ))
run "node damaged"    2 '^BTREE_CRC	off=' -- -f copy.img check
run "scan skipped"    2 '^SCAN_INCOMPLETE \(warning\)' -- -f copy.img check

# usage and open errors
run "extra argument"  1 'check takes no arguments' -- -f fresh.img check extra
run "no device"       1 'needs the volumes' -- check
run "missing image"   1 '' -- -f does-not-exist.img check

# a DragonFly reference image, when ../shared is there
if ref=$(bash "$SRC/tests/refimg.sh" v7-1vol-1g 2>/dev/null); then
  run "reference image" 0 '^check: 0 errors, 0 warnings$' -- -f "$ref" check
else
  echo "skip [reference image]: ../shared absent"
fi

if [ "$fails" -ne 0 ]; then
  echo "$fails check_cli case(s) failed"
  exit 1
fi
echo "check_cli: all passed"
