#!/usr/bin/env bash
# fuse_concurrency.sh: several processes at once on one mount: writers in
# their own and in a shared directory (creates, renames across directories,
# unlinks), readers re-reading large files, directory walkers, and an
# fsync loop; then every surviving file has the content its writer gave it,
# the shared directory holds exactly the expected names, and after
# unmount the checker is clean and a remount shows the same.
# Run alone: BUILD=build-x bash tests/fuse_concurrency.sh
. "$(dirname "$0")/fuse_lib.sh"

img=$work/c.img
M=$work/mnt
mk_image "$img" 2G || exit 1
hf_mount "$img" "$M" || exit 1
mkdir "$M/shared"
for i in 1 2 3; do dd if=/dev/urandom of="$work/big$i" bs=1M count=24 status=none; cp "$work/big$i" "$M/big$i"; done

writer() {	# writer N: 150 files, each renamed into shared/ or removed
  local n=$1 d=$M/w$1
  mkdir "$d" || return 1
  for i in $(seq 150); do
    head -c $(( (i * 997 + n * 131) % 70000 + 1 )) /dev/urandom > "$work/src.$n"
    cp "$work/src.$n" "$d/f$i" || return 1
    md5sum < "$work/src.$n" | cut -d' ' -f1 > "$work/sum.w$n.f$i"
    case $((i % 3)) in
      0) mv "$d/f$i" "$M/shared/w$n-f$i" || return 1 ;;
      1) rm "$d/f$i" && rm "$work/sum.w$n.f$i" || return 1 ;;
    esac
  done
}
reader() {	# reader N: re-read the big files, compare
  for _ in $(seq 6); do
    for i in 1 2 3; do cmp -s "$M/big$i" "$work/big$i" || { echo "big$i differs"; return 1; }; done
  done
}
walker() { for _ in $(seq 20); do find "$M" -xdev >/dev/null 2>&1; ls -lR "$M" >/dev/null 2>&1; done; }
syncer() { for _ in $(seq 20); do dd if=/dev/zero of="$M/syncfile" bs=64k count=4 conv=fsync status=none || return 1; done; }

pids=(); names=()
for n in 1 2 3 4 5 6; do writer $n & pids+=($!); names+=("writer $n"); done
for n in 1 2; do reader $n & pids+=($!); names+=("reader $n"); done
walker & pids+=($!); names+=(walker)
syncer & pids+=($!); names+=(syncer)
for k in "${!pids[@]}"; do
  if wait "${pids[$k]}"; then ok "${names[$k]}"; else fail "${names[$k]}"; fi
done

verify() {
  local bad=0 n i f
  for n in 1 2 3 4 5 6; do for i in $(seq 150); do
    case $((i % 3)) in 0) f=$M/shared/w$n-f$i ;; 1) f= ;; 2) f=$M/w$n/f$i ;; esac
    [ -n "$f" ] || { [ -e "$M/w$n/f$i" ] && { echo "w$n/f$i should be gone"; bad=1; }; continue; }
    [ "$(md5sum < "$f" | cut -d' ' -f1)" = "$(cat "$work/sum.w$n.f$i")" ] || { echo "$f differs"; bad=1; }
  done; done
  [ "$(ls "$M/shared" | wc -l)" -eq 300 ] || { echo "shared has $(ls "$M/shared" | wc -l) entries, want 300"; bad=1; }
  return $bad
}
if out=$(verify); then ok "every file as written"; else fail "every file as written" "$out"; fi
hf_umount "$M" || fail "unmount"
check_image "$img" "checker clean"
hf_mount "$img" "$M" -o ro || exit 1
if out=$(verify); then ok "same after remount"; else fail "same after remount" "$out"; fi
hf_umount "$M"
finish
