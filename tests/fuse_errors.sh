#!/usr/bin/env bash
# fuse_errors.sh: what hammer-fuse refuses and how: bad command lines and
# mount options (clear messages; pfs= of a missing PFS), images that are not
# HAMMER or are corrupt (refused naming the problem), a volume already
# mounted; corruption met while mounted (EIO, logged once); a full file
# system (ENOSPC, then still consistent and usable).  Also that every
# accepted option works: fsync_mode, flush, nohistory, cache, -s, -d and
# the FUSE/VFS options passed through.
# Run alone: BUILD=build-x bash tests/fuse_errors.sh
. "$(dirname "$0")/fuse_lib.sh"

img=$work/e.img
M=$work/mnt
mkdir -p "$M"
mk_image "$img" 1G || exit 1

# refused NAME NEEDLE ARGS...: exit 1, stderr names the problem, nothing mounted
refused() {
  local name=$1 needle=$2; shift 2
  local out st
  out=$(timeout 20 "$HF" -f "$@" 2>&1); st=$?
  if [ $st -ne 1 ]; then fail "$name" "exit $st: $out"
  elif ! grep -qF -- "$needle" <<<"$out"; then fail "$name" "message lacks '$needle': $out"
  elif is_mounted "$M"; then fail "$name" "mounted anyway"; fusermount3 -u "$M"
  else ok "$name"; fi
}
refused "no arguments" "usage:"
refused "one argument" "usage:" "$img"
refused "unknown option" "unknown mount option 'bogus'" -o bogus "$img" "$M"
refused "unknown FUSE option" "unknown mount option 'max_read=4096'" -o max_read=4096 "$img" "$M"
refused "pfs of a missing PFS" "PFS #1 does not exist" -o pfs=1 "$img" "$M"
refused "pfs out of range" "bad value in mount option" -o pfs=65536 "$img" "$M"
refused "fsync_mode range" "bad value in mount option 'fsync_mode=9'" -o fsync_mode=9 "$img" "$M"
refused "skip_redo range" "bad value in mount option 'skip_redo=3'" -o skip_redo=3 "$img" "$M"
refused "cache syntax" "bad value in mount option 'cache=lots'" -o cache=lots "$img" "$M"
refused "flush syntax" "bad value in mount option 'flush=-1'" -o flush=-1 "$img" "$M"
refused "missing mount point" "mount point $work/nodir" "$img" "$work/nodir"
refused "mount point is a file" "is not a directory" "$img" "$img"
refused "missing volume" "cannot mount $work/none.img" "$work/none.img" "$M"
truncate -s 256M "$work/zero.img"
refused "not HAMMER" "not a HAMMER volume" "$work/zero.img" "$M"
# the root B-tree node of a fresh 1 GiB volume: zone-8 0x1800000 + vol_buf_beg 0x88000
cp --sparse=always "$img" "$work/bad.img"
head -c 64 /dev/urandom | dd of="$work/bad.img" bs=1 seek=$((0x1888000 + 64)) conv=notrunc status=none
refused "corrupt B-tree node" "B-tree node 8000000001800000: CRC mismatch" "$work/bad.img" "$M"
cp --sparse=always "$img" "$work/bad2.img"
head -c 64 /dev/urandom | dd of="$work/bad2.img" bs=1 seek=$((0x88000 + 0x2000000)) conv=notrunc status=none
refused "corrupt root inode" "data CRC mismatch in record of object 1" "$work/bad2.img" "$M"
hf_mount "$img" "$M" || exit 1
M2=$M; M=$work/mnt2; mkdir -p "$M"
refused "volume already mounted" "already in use" "$img" "$M"
M=$M2
hf_umount "$M"

# --- corruption met while mounted: EIO, one log line
hf_mount "$img" "$M" || exit 1
printf 'VICTIM-%.0s' $(seq 100) > "$M/victim"
echo fine > "$M/fine"
hf_umount "$M"
# every copy: the data block, and the REDO record in the FIFO
offs=$(grep -obUa 'VICTIM-VICTIM' "$img" | cut -d: -f1 | awk '$1 != p + 14 {print} {p = $1}')
if [ -n "$offs" ]; then
  for off in $offs; do
    printf 'XXXX' | dd of="$img" bs=1 seek=$((off + 16)) conv=notrunc status=none
  done
  : > "$work/daemon.log"
  hf_mount "$img" "$M" || exit 1
  expect "corrupt data: EIO" "Input/output error" "$(errmsg cat "$M/victim")"
  expect "corrupt data: EIO again" "Input/output error" "$(errmsg cat "$M/victim")"
  expect "other files still readable" fine "$(cat "$M/fine")"
  expect "corruption logged once" 1 "$(grep -c 'corruption' "$work/daemon.log")"
  grep 'corruption' "$work/daemon.log"
  rm -f "$M/victim"
  hf_umount "$M"
else
  fail "victim data not found in the image"
fi

# --- accepted options all work
for o in nohistory fsync_mode=0 fsync_mode=1 fsync_mode=2 fsync_mode=4 skip_redo=2 \
         cache=64M flush=0 noatime nosuid,nodev,noexec suid,dev,exec sync dirsync async \
         auto_unmount fsname=myhammer allow_other rw,defaults,noauto,x-foo=1; do
  if hf_mount "$img" "$M" -o "$o"; then
    echo "opt $o" > "$M/opt" && [ "$(cat "$M/opt")" = "opt $o" ] && ok "option $o" || fail "option $o: I/O"
    hf_umount "$M" || fail "option $o: unmount"
  else
    fail "option $o: mount"
  fi
done
expect "fsname= shown" ok "$(hf_mount "$img" "$M" -o fsname=myhammer && \
  awk -v m="$M" '$2==m{print $1}' /proc/self/mounts | grep -x myhammer >/dev/null && echo ok; hf_umount "$M")"
for fl in -s -d; do
  if hf_mount "$img" "$M" "$fl"; then
    cp "$img.dummy" /dev/null 2>/dev/null; ls "$M" >/dev/null && ok "flag $fl" || fail "flag $fl"
    hf_umount "$M"
  else fail "flag $fl: mount"; fi
done
expect "-d prints FUSE debug" yes "$(grep -q 'INIT' "$work/daemon.log" && echo yes)"
cycles() { "$HAMMER" info "$M" | awk '/Flush cycles/{print $3}'; }
hf_mount "$img" "$M" -o flush=0,fsync_mode=4 || exit 1
c0=$(cycles); dd if=/dev/zero of="$M/f4" bs=4k count=1 conv=fsync status=none; c1=$(cycles)
expect "fsync_mode=4: fsync flushes nothing" "$c0" "$c1"
hf_umount "$M"
hf_mount "$img" "$M" -o flush=0 || exit 1
c0=$(cycles); dd if=/dev/zero of="$M/f3" bs=4k count=1 conv=fsync status=none; c1=$(cycles)
expect "fsync_mode=3: fsync flushes" yes "$([ "$c1" -gt "$c0" ] && echo yes)"
echo x > "$M/f3"; sleep 2; c2=$(cycles)
expect "flush=0: no background flush" "$c1" "$c2"
hf_umount "$M"
hf_mount "$img" "$M" -o flush=1 || exit 1
c0=$(cycles); echo x > "$M/f1"; sleep 2.5; c1=$(cycles)
expect "flush=1: background flush ran" yes "$([ "$c1" -gt "$c0" ] && echo yes)"
expect "flush=1: nothing dirty after it" "0.00B" "$("$HAMMER" info "$M" | awk '/Dirty/{print $2}')"
hf_umount "$M"

# --- a full file system.  With history kept, removing files frees nothing
# (the old data stays reachable as of earlier TIDs until pruned), so the
# second round mounts with nohistory, where removal gives the space back.
small=$work/small.img
for mode in history nohistory; do
  mk_image "$small" 256M || exit 1
  opts=(); [ $mode = nohistory ] && opts=(-o nohistory)
  hf_mount "$small" "$M" "${opts[@]}" || exit 1
  echo keep > "$M/keep"
  expect "$mode: fill gives ENOSPC" "No space left on device" \
    "$(dd if=/dev/urandom of="$M/fill" bs=1M count=400 2>&1 | grep -o 'No space left on device' | head -1)"
  expect "$mode: full, existing data readable" keep "$(cat "$M/keep")"
  expect "$mode: full, small creates never hang" yes \
    "$(timeout 20 sh -c "for i in \$(seq 50); do echo more > '$M/m'\$i 2>/dev/null; done"; echo yes)"
  expect "$mode: full, statfs says so" 0 "$(stat -f -c %a "$M")"
  rm -f "$M"/fill "$M"/m*
  if [ $mode = nohistory ]; then
    sync "$M/keep"
    expect "$mode: after removing, writes work again" ok \
      "$(errmsg dd if=/dev/urandom of="$M/again" bs=1M count=100 status=none conv=fsync)"
  fi
  hf_umount "$M" || fail "$mode: full, unmount"
  check_image "$small" "$mode: full, checker clean"
  hf_mount "$small" "$M" || exit 1
  expect "$mode: full, data after remount" keep "$(cat "$M/keep")"
  hf_umount "$M"
done
finish
