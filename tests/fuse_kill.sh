#!/usr/bin/env bash
# fuse_kill.sh: kill -9 of the daemon during heavy writes, several times at
# different points.  Each time the next mount recovers, every file whose
# fsync had returned is there with its exact content (the writer logs a file
# only after its fsync returned), and after a clean unmount the checker finds
# nothing.  One round runs with the flusher every second so that a kill can
# land inside a background flush.
# Run alone: BUILD=build-x bash tests/fuse_kill.sh
. "$(dirname "$0")/fuse_lib.sh"

img=$work/k.img
M=$work/mnt
mk_image "$img" 2G || exit 1
delays=(0.4 1.3 2.2 3.5 5.0)
for round in "${!delays[@]}"; do
  opts=()
  [ "$round" -eq 2 ] && opts=(-o flush=1)
  hf_mount "$img" "$M" "${opts[@]}" || { fail "round $round: mount"; break; }
  pid=${HF_PID[$M]}
  mkdir -p "$M/r$round"
  "$HT" writer "$M/r$round" "$work/log$round" 2>/dev/null &
  wpid=$!
  dd if=/dev/urandom of="$M/r$round/bulk" bs=1M count=300 status=none 2>/dev/null &
  dpid=$!
  sleep "${delays[$round]}"
  kill -9 "$pid"
  wait "$wpid" "$dpid" 2>/dev/null
  hf_forget "$M"
  n=$(wc -l < "$work/log$round")
  [ "$n" -gt 0 ] || fail "round $round: the writer fsync'd nothing before the kill"
  # the next mount runs recovery; every earlier round must still verify
  if ! hf_mount "$img" "$M"; then fail "round $round: mount after kill -9"; break; fi
  for r in $(seq 0 "$round"); do
    out=$("$HT" verify "$M/r$r" "$work/log$r")
    if [ $? -eq 0 ]; then ok "round $round (kill after ${delays[$round]} s): round $r files: $out"
    else fail "round $round: round $r files" "$out"; fi
  done
  rm -f "$M/r$round/bulk"
  hf_umount "$M" || fail "round $round: clean unmount"
  check_image "$img" "round $round: checker clean after recovery"
done
finish
