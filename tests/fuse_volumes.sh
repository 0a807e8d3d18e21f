#!/usr/bin/env bash
# fuse_volumes.sh: a volume set of two image files mounted as one file
# system (data spills onto the second volume), the mount(8) helper
# mount.fuse.hammer with fstab-style options, read-only mounts (-o ro and
# the helper's -r), SIGTERM unmounting cleanly with everything flushed, a
# volume set of two loop block devices (and of read-only ones), and
# `mount -t fuse.hammer` when the helper is installed in /sbin.
# Run alone: BUILD=build-x bash tests/fuse_volumes.sh
. "$(dirname "$0")/fuse_lib.sh"

v0=$work/vol0.img v1=$work/vol1.img
M=$work/mnt
rm -f "$v0" "$v1"; truncate -s 512M "$v0" "$v1"
"$NEWFS" -L TWO -f -u 8M "$v0" "$v1" >"$work/newfs.log" 2>&1 || { cat "$work/newfs.log"; exit 1; }
devs="$v0:$v1"
# a daemon started by the helper is not our child: its volume locks tell
# when its final flush is done
vols_free() { flock -w 60 "$v0" true && flock -w 60 "$v1" true; }

# --- two volumes, one file system; more data than one volume holds
hf_mount "$devs" "$M" || exit 1
expect "info: 2 volumes" "No. Volumes         2" "$("$HAMMER" info "$M" | grep -o 'No. Volumes.*')"
expect "statfs spans both" yes "$(b=$(stat -f -c '%b*%S' "$M"); [ $((b)) -gt $((800*1024*1024)) ] && echo yes)"
dd if=/dev/urandom of="$work/chunk" bs=1M count=16 status=none
for i in $(seq 40); do cp "$work/chunk" "$M/c$i" || { fail "write c$i"; break; }; done
expect "640 MiB written" ok "$(for i in $(seq 40); do cmp -s "$work/chunk" "$M/c$i" || echo "c$i differs"; done; echo ok)"
hf_umount "$M" || fail "unmount"
expect "second volume holds data" yes "$(u=$(du -k "$v1" | cut -f1); [ "$u" -gt 65536 ] && echo yes)"
check_image "$devs" "checker clean (2 volumes)"

# --- mount helper, as mount(8) calls it: SPEC DIR [-sfnv] -o OPTS
expect "helper -f (fake) mounts nothing" "0 no" \
  "$("$HELPER" "$devs" "$M" -f -o rw; echo -n "$? "; is_mounted "$M" && echo yes || echo no)"
"$HELPER" "$devs" "$M" -n -o rw,noauto,nofail,_netdev,x-systemd.automount,defaults,flush=5 ||
  fail "helper mount"
for _ in $(seq 50); do is_mounted "$M" && break; sleep 0.1; done
expect "helper mounted (daemonized)" yes "$(is_mounted "$M" && echo yes)"
# root: fuseblk over a loop device on volume 0 (the source), see DESIGN.md 9
src=$(awk -v m="$M" '$2==m{print $1}' /proc/self/mounts)
expect "helper: fuseblk over a loop device of volume 0" "fuseblk.hammer $v0" \
  "$(awk -v m="$M" '$2==m{print $3}' /proc/self/mounts) $(losetup -nO BACK-FILE "$src" 2>/dev/null)"
expect "helper: flush option reached the daemon" "Flush interval      5 s" \
  "$("$HAMMER" info "$M" | grep -o 'Flush interval.*')"
expect "helper: data readable" ok "$(cmp -s "$work/chunk" "$M/c7" && echo ok)"
echo "via helper" > "$M/helper.txt"
umount "$M" || fail "umount"
# the daemon holds the volume lock until its final flush is done
vols_free || fail "daemon did not finish"
check_image "$devs" "checker clean after helper mount"

# --- read-only: -o ro, and the helper's -r
hf_mount "$devs" "$M" -o ro || exit 1
expect "ro: mount flag" yes "$(awk -v m="$M" '$2==m{print $4}' /proc/self/mounts | grep '^ro' >/dev/null && echo yes)"
expect "ro: reads" "via helper" "$(cat "$M/helper.txt")"
expect "ro: write refused" "Read-only file system" "$(errmsg touch "$M/new")"
expect "ro: info says so" "Read-only           yes" "$("$HAMMER" info "$M" | grep -o 'Read-only.*')"
expect "ro: synctid still answers" yes "$("$HAMMER" synctid "$M" | grep '^0x' >/dev/null && echo yes)"
hf_umount "$M" || fail "ro unmount"
"$HELPER" "$devs" "$M" -r || fail "helper -r"
for _ in $(seq 50); do is_mounted "$M" && break; sleep 0.1; done
expect "helper -r: write refused" "Read-only file system" "$(errmsg touch "$M/new")"
umount "$M"; vols_free

# --- SIGTERM: unmount, flush, exit 0
hf_mount "$devs" "$M" || exit 1
echo "before TERM" > "$M/term.txt"
pid=${HF_PID[$M]}
kill -TERM "$pid"
wait "$pid"; st=$?
unset "HF_PID[$M]"
expect "SIGTERM: exit status" 0 "$st"
expect "SIGTERM: unmounted" no "$(is_mounted "$M" && echo yes || echo no)"
check_image "$devs" "checker clean after SIGTERM"
hf_mount "$devs" "$M" -o ro || exit 1
expect "SIGTERM: unsynced data flushed" "before TERM" "$(cat "$M/term.txt")"
hf_umount "$M"

# --- real block devices: two loop devices as one volume set, as /dev/sdb1:/dev/sdc1
loops=()
trap 'cleanup; for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null; done' EXIT
truncate -s 300M "$work/blk0.img" "$work/blk1.img"
if l0=$(losetup --find --show "$work/blk0.img" 2>/dev/null); then
  loops+=("$l0")
  l1=$(losetup --find --show "$work/blk1.img"); loops+=("$l1")
  "$NEWFS" -L BLK -f -u 8M "$l0" "$l1" >"$work/newfs.log" 2>&1 || fail "newfs on $l0:$l1"
  if hf_mount "$l0:$l1" "$M"; then
    cp "$work/chunk" "$M/onblk"
    expect "block devices: data" ok "$(cmp -s "$work/chunk" "$M/onblk" && echo ok)"
    expect "block devices: fuseblk on volume 0" "$l0 fuseblk.hammer" \
      "$(awk -v m="$M" '$2==m{print $1, $3}' /proc/self/mounts)"
    hf_umount "$M" || fail "block devices: unmount"
    check_image "$l0:$l1" "block devices: checker clean"
  else
    fail "block devices: mount"
  fi
  # a read-only device set mounts read-only, and is refused read-write
  r0=$(losetup --find --show --read-only "$work/blk0.img"); loops+=("$r0")
  r1=$(losetup --find --show --read-only "$work/blk1.img"); loops+=("$r1")
  expect "read-only devices refused rw" yes \
    "$(out=$("$HF" -f "$r0:$r1" "$M" 2>&1); grep -q 'read-only' <<<"$out" && echo yes)"
  if hf_mount "$r0:$r1" "$M" -o ro; then
    expect "read-only devices: ro mount reads" ok "$(cmp -s "$work/chunk" "$M/onblk" && echo ok)"
    hf_umount "$M"
  else
    fail "read-only devices: ro mount"
  fi
else
  echo "note: no loop devices; block devices not tried"
fi

# --- mount -t fuse.hammer and fstab, when the helper is installed
if [ -x /sbin/mount.fuse.hammer ]; then
  mount -t fuse.hammer -o ro "$devs" "$M" || fail "mount -t fuse.hammer"
  expect "mount -t fuse.hammer" "via helper" "$(cat "$M/helper.txt")"
  umount "$M"; vols_free
  echo "$devs $M fuse.hammer ro,noauto 0 0" > "$work/fstab"
  mount -T "$work/fstab" "$M" || fail "mount via fstab"
  expect "fstab line" "via helper" "$(cat "$M/helper.txt")"
  umount "$M"; vols_free
else
  echo "note: /sbin/mount.fuse.hammer not installed; mount -t and fstab not tried"
fi
finish
