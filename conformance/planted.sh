#!/bin/bash
# planted.sh CRASHLOOP_PLANTED - the crash loop must catch every planted bug.
#
# For each bug of ref/planted.h, run the crash loop built over the planted
# library on workloads that exercise the code the bug sits in, with
# HAMMER_PLANT naming it: at least one crash state must fail.  The same
# workloads with no bug planted must all pass, so a failure is the bug's.
# A bug counts as caught when one of its workloads catches it; the totals
# count bugs (and baseline failures).
# Each line names the command that reproduces it.
set -u
loop=${1:?usage: planted.sh CRASHLOOP_PLANTED}
pass=0 fail=0

# bug -> workloads (space separated)
declare -A wl=(
  [undo-skip]="append+sync create+sync"
  [no-barrier]="append+sync create+sync"
  [bad-seq]="append+sync create+sync"
  [crc-unset]="append+sync create+sync"
  [redo-drop]="redo:smallwrite+fsync"
  [config-split]="config+sync config+fsync"
  [reblock-split]="reblock+sync reblock-fresh+sync"
)
order="undo-skip no-barrier bad-seq crc-unset redo-drop config-split reblock-split"

run() {	# plant workload -> prints "passed failed" counts of crash states
  local out
  out=$(HAMMER_PLANT=$1 "$loop" --workload "$2" 2>&1 | tail -n 1)
  echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p'
}

for bug in $order; do
  caught=0
  for w in ${wl[$bug]}; do
    read -r p f < <(run "" "$w")
    if [ -z "${f:-}" ] || [ "$f" != 0 ] || [ "$p" = 0 ]; then
      echo "FAIL baseline: $w fails with no bug planted ($p passed, ${f:-?} failed): $loop --workload '$w'"
      fail=$((fail + 1))
      continue
    fi
    read -r p f < <(run "$bug" "$w")
    if [ -n "${f:-}" ] && [ "$f" -gt 0 ]; then
      echo "ok   $bug caught by $w: $f of $((p + f)) crash states fail"
      caught=1
    else
      echo "note $bug not caught by $w (${p:-?} passed): HAMMER_PLANT=$bug $loop --workload '$w' -v"
    fi
  done
  if [ "$caught" = 1 ]; then
    pass=$((pass + 1))
  else
    echo "FAIL $bug caught by none of: ${wl[$bug]}"
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
