#!/usr/bin/env bash
# inspect_reference.sh: run our `hammer` on every reference image and diff
# its stdout with what DragonFly's own hammer printed (../shared/reference).
#
# Normalisation, and why it is the only one:
#  * each reference dump starts with the "$ hammer ..." command line and
#    (except show-undo) ends with "[exit status N]"; both are stripped and
#    the exit status is compared with ours separately;
#  * show-undo dumps hold the first 400 and last 50 lines of the output,
#    with "[full output: N lines ...]" on line 2 and a "[... M lines
#    omitted ...]" line between; we cut our output the same way and check N;
#  * device names never appear on stdout (the header prints the label, not
#    the path), so nothing else needs rewriting.
# Our stderr carries warnings DragonFly does not print (e.g. the stale zone
# 8/9 blockmap CRCs newfs leaves); stdout must match byte for byte.
set -u
HAMMER=${BUILD:?}/cli/hammer
REF=${HAMMER_SHARED:-$SRC/../shared}/reference
[ -d "$REF" ] || { echo "no reference images: skip"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

check() { # name dumpfile expected-exit args...
  local name=$1 dump=$2 want=$3; shift 3
  local img rc
  img=$(bash "$SRC/tests/refimg.sh" "$name") || { echo "refimg $name failed"; fail=1; return; }
  "$HAMMER" "${@:1:$#-1}" -f "$img" "${@: -1}" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ $rc -ge 128 ]; then
    echo "FAIL $name $dump: killed by signal $((rc - 128))"; fail=1; return
  fi
  if [ "$dump" = show-undo ] || [ "$dump" = show-undo-v ]; then
    local total mine
    total=$(sed -n '2s/.*full output: \([0-9]*\) lines.*/\1/p' "$REF/$name/$dump.txt")
    mine=$(wc -l <"$tmp/out")
    { head -n 400 "$tmp/out"; echo "[... $((mine - 450)) lines omitted ...]"
      tail -n 50 "$tmp/out"; } >"$tmp/mine"
    sed '1,2d' "$REF/$name/$dump.txt" >"$tmp/want"
    if [ "$total" != "$mine" ]; then
      echo "FAIL $name $dump: $mine lines, DragonFly printed $total"; fail=1
    fi
  else
    cp "$tmp/out" "$tmp/mine"
    sed '1d;$d' "$REF/$name/$dump.txt" >"$tmp/want"
    want=$(sed -n '$s/\[exit status \([0-9]*\)\]/\1/p' "$REF/$name/$dump.txt")
  fi
  if [ "$rc" != "$want" ]; then
    echo "FAIL $name $dump: exit status $rc, expected $want"; fail=1
  fi
  if ! diff -u "$tmp/want" "$tmp/mine" >"$tmp/diff"; then
    echo "FAIL $name $dump: output differs (reproduce: $HAMMER $* with -f $img)"
    head -n 40 "$tmp/diff"; fail=1
  else
    echo "ok   $name $dump"
  fi
}

for name in v7-1vol-1g v7-1vol-16g v7-3vol v6-1vol-1g; do
  [ -d "$REF/$name" ] || { echo "FAIL missing $REF/$name"; fail=1; continue; }
  check "$name" blockmap 0 blockmap
  check "$name" blockmap-v 0 -v blockmap
  check "$name" show 0 show
  check "$name" show-v 0 -v show
  check "$name" show-undo 0 show-undo
  check "$name" show-undo-v 0 -v show-undo
  check "$name" checkmap 0 checkmap
  check "$name" checkmap-v 0 -v checkmap
  # -vvvv show prints what -v show prints on these images (README quirk 9)
  check "$name" show-v 0 -vvvv show
done
exit $fail
