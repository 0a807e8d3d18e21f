#!/usr/bin/env bash
# fuse_refimg.sh: every DragonFly reference image (../shared/reference)
# mounts read-only: the root lists empty, stats as inode 1, statfs and
# `hammer info` agree with the label and volume count.  Copies of the small
# ones (v7, v6 and the 3-volume set) are then mounted read-write, written,
# unmounted, checked and read back: DragonFly-made images take our writes.
# Run alone: BUILD=build-x SRC=. HAMMER_SHARED=../shared bash tests/fuse_refimg.sh
. "$(dirname "$0")/fuse_lib.sh"
: "${SRC:=$(cd "$(dirname "$0")/.." && pwd)}"

M=$work/mnt
declare -A LABEL=([v7-1vol-1g]=REF1 [v7-1vol-16g]=REF16 [v7-3vol]=REF3 [v6-1vol-1g]=REF6)
declare -A NVOL=([v7-1vol-1g]=1 [v7-1vol-16g]=1 [v7-3vol]=3 [v6-1vol-1g]=1)
declare -A VERS=([v7-1vol-1g]=7 [v7-1vol-16g]=7 [v7-3vol]=7 [v6-1vol-1g]=6)
for name in v7-1vol-1g v7-1vol-16g v7-3vol v6-1vol-1g; do
  devs=$(bash "$SRC/tests/refimg.sh" "$name"); st=$?
  [ $st -eq 77 ] && { echo "SKIP: reference images absent"; exit 77; }
  [ $st -eq 0 ] || { fail "$name: refimg.sh"; continue; }
  hf_mount "$devs" "$M" -o ro || { fail "$name: ro mount"; continue; }
  expect "$name: root lists empty" "" "$(ls -A "$M")"
  expect "$name: root stat" "1 directory 755" "$(stat -c '%i %F %a' "$M")"
  expect "$name: ls -la" 2 "$(ls -la "$M" | grep -c '^d')"
  expect "$name: statfs" yes "$([ "$(stat -f -c %b "$M")" -gt 0 ] && echo yes)"
  info=$("$HAMMER" info "$M")
  expect "$name: label" "Label               ${LABEL[$name]}" "$(grep -o 'Label.*' <<<"$info")"
  expect "$name: volumes" "No. Volumes         ${NVOL[$name]}" "$(grep -o 'No. Volumes.*' <<<"$info")"
  expect "$name: version" "current=${VERS[$name]}" "$("$HAMMER" version "$M" | head -1 | grep -o 'current=[0-9]*')"
  expect "$name: read-only" "Read-only file system" "$(errmsg mkdir "$M/x")"
  hf_umount "$M" || fail "$name: unmount"
  [ "$name" = v7-1vol-16g ] && continue
  # read-write on a copy
  copies=()
  IFS=: read -ra vols <<<"$devs"
  for v in "${vols[@]}"; do
    cp --sparse=always "$v" "$work/$(basename "$v")"; copies+=("$work/$(basename "$v")")
  done
  cdevs=$(IFS=:; echo "${copies[*]}")
  hf_mount "$cdevs" "$M" || { fail "$name: rw mount"; continue; }
  mkdir "$M/dir" && echo "written on $name" > "$M/dir/file" && ln -s dir/file "$M/link"
  hf_umount "$M" || fail "$name: rw unmount"
  check_image "$cdevs" "$name: checker clean after our writes"
  hf_mount "$cdevs" "$M" -o ro || { fail "$name: remount"; continue; }
  expect "$name: data back" "written on $name" "$(cat "$M/link")"
  hf_umount "$M"
  rm -f "${copies[@]}"
done
finish
