#!/usr/bin/env bash
# fuse_umount.sh: every way of unmounting returns only after the final
# flush, with the volumes unlocked.  Each case writes a lot that nothing has
# flushed yet (flush=0, a cache larger than the writes), unmounts, and then
# at once -- no sleep, no waiting for the daemon -- runs the offline checker
# and mounts the image read-only (refused while the daemon still holds its
# lock; and read-only mounts skip REDO, so the data must be in the tree).
# Cases: root mounts are fuseblk (over a loop device for an image file):
# fusermount3 -u, umount(8), SIGTERM (then waiting for the pid, as the
# kill command itself cannot); plain fuse mounts (-o noblkdev, and mounts
# by another user): umount.fuse.hammer, and umount(8) calling it.
# Run alone: BUILD=build-x bash tests/fuse_umount.sh
. "$(dirname "$0")/fuse_lib.sh"

UMOUNT_HELPER=$BUILD/fuse/umount.fuse.hammer
[ -x "$UMOUNT_HELPER" ] || { echo "FAIL: $UMOUNT_HELPER not built"; exit 1; }
img=$work/u.img
M=$work/mnt
mk_image "$img" 4G || exit 1
dd if=/dev/urandom of="$work/data" bs=1M count=160 status=none
LOAD_OPTS=flush=0,cache=2G

# load TAG: 160 MiB in one file and 400 small files, none of it flushed
load() {
  cp "$work/data" "$M/big.$1" &&
  mkdir "$M/small.$1" &&
  for i in $(seq 400); do echo "small $i" > "$M/small.$1/$i" || return 1; done &&
  echo "tag $1" > "$M/tag"
}

# after NAME TAG: right after the unmount command returned
after() {
  local name=$1 tag=$2
  check_image "$img" "$name: checker clean at once"
  if hf_mount "$img" "$M" -o ro; then
    expect "$name: big file" ok "$(cmp -s "$work/data" "$M/big.$tag" && echo ok)"
    expect "$name: small files" 400 "$(ls "$M/small.$tag" | wc -l)"
    expect "$name: last file" "tag $tag" "$(cat "$M/tag")"
    hf_umount "$M"
  else
    fail "$name: read-only mount at once"
  fi
  expect "$name: no loop device left on the image" "" "$(losetup -j "$img" 2>/dev/null)"
}

# own MNT: take the daemon of MNT off hf_umount's books (we unmount it
# ourselves); its pid goes to $dpid, for `wait` afterwards
own() { dpid=${HF_PID[$1]}; unset "HF_PID[$1]"; }

# --- root, fuseblk: the kernel's umount waits for DESTROY
hf_mount "$img" "$M" -o "$LOAD_OPTS" || exit 1
expect "root mount of an image is fuseblk" fuseblk.hammer \
  "$(awk -v m="$M" '$2==m{print $3}' /proc/self/mounts)"
load 1 || fail "load 1"
own "$M"
fusermount3 -u "$M" || fail "fusermount3 -u"
after "fusermount3 -u (fuseblk)" 1
wait "$dpid" || fail "fusermount3 -u: daemon exit status"

hf_mount "$img" "$M" -o "$LOAD_OPTS" || exit 1
load 2 || fail "load 2"
own "$M"
umount "$M" || fail "umount"
after "umount (fuseblk)" 2
wait "$dpid" || fail "umount: daemon exit status"

hf_mount "$img" "$M" -o "$LOAD_OPTS" || exit 1
load 3 || fail "load 3"
own "$M"
kill -TERM "$dpid"
wait "$dpid"; expect "SIGTERM: exit status" 0 $?
after "SIGTERM, then wait for the pid" 3

# --- plain fuse: umount.fuse.hammer waits on the control socket
hf_mount "$img" "$M" -o "$LOAD_OPTS,noblkdev" || exit 1
expect "noblkdev: plain fuse" fuse.hammer "$(awk -v m="$M" '$2==m{print $3}' /proc/self/mounts)"
load 4 || fail "load 4"
own "$M"
expect "umount.fuse.hammer -v" "$M: unmounted, everything flushed" "$("$UMOUNT_HELPER" -v "$M" 2>&1)"
after "umount.fuse.hammer (plain fuse)" 4
wait "$dpid" || fail "umount.fuse.hammer: daemon exit status"
expect "umount.fuse.hammer: not mounted" "umount.fuse.hammer: $M: not a mounted HAMMER file system" \
  "$("$UMOUNT_HELPER" "$M" 2>&1)"
# a busy mount stays mounted and the helper says so
hf_mount "$img" "$M" -o noblkdev || exit 1
exec 7<"$M/tag"
expect "umount.fuse.hammer: busy" "1 yes" \
  "$("$UMOUNT_HELPER" "$M" 2>/dev/null; echo -n "$? "; is_mounted "$M" && echo yes)"
exec 7<&-
hf_umount "$M" || fail "unmount after busy"

# --- umount(8) runs /sbin/umount.fuse.hammer: tried in a private mount
# namespace with both helpers overlaid on /usr/sbin (nothing is installed).
# umount(8) reads the mount's type from statfs ("fuse") unless the mount has
# a utab entry, so the mount must come from mount(8) with an x- option.
ns_case() {
  set -u
  # a private utab: nothing of this reaches the host's /run/mount/utab
  mount -t tmpfs none /run/mount 2>/dev/null || exit 77
  mount -t overlay overlay -o "lowerdir=$work/sbin:/usr/sbin" /usr/sbin || exit 77
  mount -t fuse.hammer -o "$LOAD_OPTS,noblkdev,x-hammer.test" "$img" "$M" || exit 1
  for _ in $(seq 50); do is_mounted "$M" && break; sleep 0.1; done
  load 5 || exit 1
  umount "$M" || exit 1
  # at once, as above
  "$HAMMER" -f "$img" check >/dev/null 2>&1 || exit 2
  "$HF" -o ro "$img" "$M" 2>/dev/null || exit 3
  for _ in $(seq 50); do is_mounted "$M" && break; sleep 0.1; done
  cmp -s "$work/data" "$M/big.5" || exit 4
  [ "$(cat "$M/tag")" = "tag 5" ] || exit 5
  umount "$M"
  exit 0
}
mkdir -p "$work/sbin"
ln -s "$(realpath "$UMOUNT_HELPER")" "$work/sbin/umount.fuse.hammer"
ln -s "$(realpath "$HELPER")" "$work/sbin/mount.fuse.hammer"
if command -v unshare >/dev/null && grep -qw overlay /proc/filesystems; then
  export -f ns_case load is_mounted
  HF=$(realpath "$HF") HAMMER=$(realpath "$HAMMER")
  export work img M HF HAMMER LOAD_OPTS
  unshare -m --propagation private bash -c ns_case; st=$?
  case $st in
    0) ok "umount(8) -> umount.fuse.hammer: flushed at once" ;;
    77) echo "note: cannot overlay /usr/sbin here; umount(8) with the helper not tried" ;;
    *) fail "umount(8) -> umount.fuse.hammer" "step $st failed" ;;
  esac
  # the daemons of the namespace are not ours: their volume lock says when they end
  flock -w 60 "$img" true || fail "namespace daemons did not finish"
else
  echo "note: no unshare or overlayfs; umount(8) with the helper not tried"
fi

# --- a mount by another user: plain fuse, socket under $XDG_RUNTIME_DIR
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
  uimg=$work/user.img UM=$work/umnt RT=$work/run-nobody
  mk_image "$uimg" 1G || exit 1
  mkdir -p "$UM" "$RT"
  # newfs makes the root directory root's: give it to nobody first
  if hf_mount "$uimg" "$UM"; then
    chown nobody:nogroup "$UM"; hf_umount "$UM"
  else
    fail "user: root mount to chown the root directory"
  fi
  chown nobody "$uimg" "$UM" "$RT"; chmod 700 "$RT"
  as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups env XDG_RUNTIME_DIR="$RT" "$@"; }
  if as_nobody "$HF" -o flush=0 "$uimg" "$UM" 2>"$work/user.log"; then
    expect "user mount: plain fuse" fuse.hammer "$(awk -v m="$UM" '$2==m{print $3}' /proc/self/mounts)"
    as_nobody sh -c "cp '$work/data' '$UM/big' && echo user > '$UM/tag'" || fail "user: writes"
    expect "user: files are the user's" "65534 65534" "$(as_nobody stat -c '%u %g' "$UM/tag")"
    expect "user: hammer info through its socket" "TEST" \
      "$(as_nobody "$HAMMER" info "$UM" 2>&1 | awk '$1 == "Label" {print $2}')"
    expect "user: hammer synctid" ok "$(as_nobody "$HAMMER" synctid "$UM" >/dev/null 2>&1 && echo ok)"
    expect "user mount: other users (root too) are kept out" "Permission denied" "$(errmsg ls "$UM")"
    as_nobody "$UMOUNT_HELPER" "$UM" || fail "user: umount.fuse.hammer"
    expect "user: checker clean at once" ok "$("$HAMMER" -f "$uimg" check >/dev/null 2>&1 && echo ok)"
    if hf_mount "$uimg" "$UM" -o ro; then
      expect "user: data flushed" ok "$(cmp -s "$work/data" "$UM/big" && echo ok)"
      hf_umount "$UM"
    else
      fail "user: read-only mount at once"
    fi
  else
    # Debian's udev makes /dev/fuse 0666; some VMs and containers do not
    echo "note: a mount by nobody failed here ($(tail -1 "$work/user.log")); not tried"
  fi
else
  echo "note: no user nobody or no setpriv; user mounts not tried"
fi
finish
