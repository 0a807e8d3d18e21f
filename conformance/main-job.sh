#!/usr/bin/env bash
# main-job.sh BUILD: the README's main job.
#
# Until the crash-recovery suite lands (it replaces this), the main job
# formats images with our newfs_hammer and checks them with our read-only
# tools: each step is one check; the last line is 'N passed, F failed'.
set -uo pipefail
B=${1:-build}
NEWFS=$B/cli/newfs_hammer
HAMMER=$B/cli/hammer
work=$(mktemp -d "${TMPDIR:-/tmp}/hammer-main.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() {  # description, command...
  local what=$1; shift
  if "$@" >"$work/out" 2>&1; then
    pass=$((pass + 1)); echo "ok    $what"
  else
    fail=$((fail + 1)); echo "FAIL  $what  (rerun: $*)"; sed 's/^/      /' "$work/out" | tail -20
  fi
}
for geom in "1 1G 8M" "3 1G 8M" "1 12G 0"; do
  set -- $geom
  n=$1 size=$2 undo=$3
  vols=()
  for i in $(seq 0 $((n - 1))); do
    truncate -s "$size" "$work/v$i.img"; vols+=("$work/v$i.img")
  done
  spec=$(IFS=:; echo "${vols[*]}")
  uopt=(); [ "$undo" = 0 ] || uopt=(-u "$undo")
  check "newfs $n x $size" env SOURCE_DATE_EPOCH=1795306471 "$NEWFS" -L MAIN -f "${uopt[@]}" "${vols[@]}"
  for cmd in blockmap show show-undo checkmap info; do
    check "hammer $cmd ($n x $size)" "$HAMMER" -f "$spec" "$cmd"
  done
  check "checkmap reports 0 errors ($n x $size)" \
    bash -c "'$HAMMER' -v -f '$spec' checkmap | grep -qx '0 errors'"
  check "show reports 0 bad nodes ($n x $size)" \
    bash -c "'$HAMMER' -v -f '$spec' show | grep -qx '0 bad nodes'"
  rm -f "${vols[@]}"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
