#!/usr/bin/env bash
# fuse_pfs.sh: PFSs through hammer-fuse.  On a mount of a fresh image:
# PFS links made with `hammer pfs-master`/`pfs-slave`, files written through
# a link and seen through `mount --bind`, inode numbers unique across PFSs
# (find, du and tar see no false hard links), mount.fuse.hammer with a PFS
# link as its "device" (served by the running daemon: pfs-mount), then
# `hammer-fuse -o pfs=N` of a master (writable, checker clean afterwards)
# and of a slave (read-only), and pfs-destroy refused (EBUSY) while the PFS
# is mounted.  Every failure prints the command that failed.
# Run alone: BUILD=build-x bash tests/fuse_pfs.sh
. "$(dirname "$0")/fuse_lib.sh"

UMOUNT_HELPER=$BUILD/fuse/umount.fuse.hammer
[[ $("$HAMMER" 2>&1) == *pfs-master* ]] || { echo "SKIP: hammer has no pfs-master"; exit 77; }
img=$work/p.img
M=$work/mnt
B=$work/bind
P=$work/pfsmnt
mkdir -p "$B" "$P"
extra_umounts=()
pfs_cleanup() {
  local d
  for d in "${extra_umounts[@]}"; do
    mountpoint -q "$d" && umount -l "$d" 2>/dev/null
  done
  cleanup
}
trap pfs_cleanup EXIT

# run NAME CMD...: the command must succeed
run() {
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then ok "$name"; else fail "$name" "\`$*\` failed: $out"; fi
}
# refuse NAME ERRTEXT CMD...: the command must fail with ERRTEXT in its output
refuse() {
  local name=$1 want=$2; shift 2
  local out
  if out=$("$@" 2>&1); then fail "$name" "\`$*\` succeeded, expected '$want'"
  elif [[ $out == *"$want"* ]]; then ok "$name"
  else fail "$name" "\`$*\`: want '$want', got: $out"; fi
}

mk_image "$img" 2G || exit 1
hf_mount "$img" "$M" || exit 1
mkdir "$M/pfs"
run "pfs-master a" "$HAMMER" pfs-master "$M/pfs/a"
run "pfs-master b" "$HAMMER" pfs-master "$M/pfs/b"
run "pfs-master c" "$HAMMER" pfs-master "$M/pfs/c"
run "pfs-slave s" "$HAMMER" pfs-slave "$M/pfs/s"	# PFS #4, never mirrored into
expect "link of a master" "@@-1:00001" "$(readlink "$M/pfs/a")"

# the same tree in every PFS: object ids may repeat between PFSs
for p in a b c; do
  mkdir -p "$M/pfs/$p/d" && for i in 1 2 3; do echo "$p $i" > "$M/pfs/$p/d/f$i"; done ||
    fail "write through $p" "echo > $M/pfs/$p/d/f*"
done
echo root > "$M/top"
expect "read through the link" "b 2" "$(cat "$M/pfs/b/d/f2")"
ino_a=$(stat -c %i "$M/pfs/a/")
expect "PFS root inode number" "$((1 << 48 | 1))" "$ino_a"

run "mount --bind" mount --bind "$M/pfs/a" "$B"
extra_umounts+=("$B")
expect "bind mount sees the files" "a 3" "$(cat "$B/d/f3" 2>&1)"
echo via-bind > "$B/d/new" || fail "write through the bind mount" "echo > $B/d/new"
expect "link sees the bind mount's write" "via-bind" "$(cat "$M/pfs/a/d/new" 2>&1)"
run "umount bind" umount "$B"

dups=$(find -L "$M/pfs"/* -type f -links 1 -printf '%D:%i\n' | sort | uniq -d)
expect "inode numbers unique across PFSs (find)" "" "$dups"
n=$(find -L "$M/pfs"/* -type f | wc -l)
expect "find sees every file" 10 "$n"
links=$(cd "$M/pfs" && tar -chf - a/ b/ c/ | tar -tvf - | grep -c 'link to')
expect "tar sees no false hard links" 0 "$links"
du_n=$(du -aL "$M/pfs/a/" "$M/pfs/b/" "$M/pfs/c/" | awk '$2 ~ /\/f[0-9]$/' | wc -l)
expect "du counts every file once" 9 "$du_n"

# mount.fuse.hammer with a PFS link as the device: the daemon serves it
run "mount.fuse.hammer PFS link" "$HELPER" "$M/pfs/b" "$P"
extra_umounts+=("$P")
expect "pfs-mount is fuse.hammer" 1 "$(grep -c " $P fuse.hammer " /proc/self/mounts)"
expect "pfs-mount root inode" "$((2 << 48 | 1))" "$(stat -c %i "$P")"
expect "pfs-mount sees the files" "b 1" "$(cat "$P/d/f1" 2>&1)"
echo via-pfs-mount > "$P/new" || fail "write through pfs-mount" "echo > $P/new"
expect "link sees the pfs-mount's write" "via-pfs-mount" "$(cat "$M/pfs/b/new" 2>&1)"
# two sessions, one PFS: neither may keep stale pages or attributes
cat "$P/d/f1" "$M/pfs/b/d/f2" >/dev/null
echo changed-through-link > "$M/pfs/b/d/f1"
echo changed-through-pfs-mount > "$P/d/f2"
expect "pfs-mount sees a change through the link" "changed-through-link" "$(cat "$P/d/f1" 2>&1)"
expect "link sees a change through pfs-mount" "changed-through-pfs-mount" "$(cat "$M/pfs/b/d/f2" 2>&1)"
refuse "pfs-destroy refused while pfs-mounted" "busy" \
  bash -c "printf 'y\ny\n' | '$HAMMER' -d pfs-destroy '$M/pfs/b'"
refuse "a directory is not a PFS root" "not the root of a PFS" "$HELPER" "$M/pfs/b/d" "$work"
refuse "slave with no root" "no root directory" "$HELPER" "$M/pfs/s" "$work"
run "umount.fuse.hammer pfs-mount" "$UMOUNT_HELPER" "$P"
is_mounted "$P" && fail "pfs-mount gone" "$P still mounted"
expect "main mount still there" "root" "$(cat "$M/top" 2>&1)"
# a slave with a root: a downgraded master, read-only from then on
run "pfs-downgrade c" "$HAMMER" pfs-downgrade "$M/pfs/c"
hf_umount "$M" || fail "umount main" "hf_umount $M"
check_image "$img" "checker after the link writes"

# -o pfs=N: the PFS alone
hf_mount "$img" "$P" -o pfs=1 || fail "-o pfs=1" "$HF -f -o pfs=1 $img $P"
if is_mounted "$P"; then
  expect "-o pfs=1 root inode" "$((1 << 48 | 1))" "$(stat -c %i "$P")"
  expect "-o pfs=1 sees the files" "via-bind" "$(cat "$P/d/new" 2>&1)"
  echo pfsmount > "$P/w" || fail "-o pfs=1 write" "echo > $P/w"
  mkdir "$P/nd" && mv "$P/w" "$P/nd/w" || fail "-o pfs=1 mkdir/mv" "mv $P/w $P/nd/w"
  expect "-o pfs=1 no PFS #0 files" "" "$(ls "$P" | grep top)"
  hf_umount "$P" || fail "umount -o pfs=1" "hf_umount $P"
fi
check_image "$img" "checker after -o pfs=1"
hf_mount "$img" "$P" -o pfs=3 || fail "-o pfs=3 (slave)" "$HF -f -o pfs=3 $img $P"
if is_mounted "$P"; then
  expect "slave mount read-only" 1 "$(grep -c " $P fuse[a-z]*\.hammer ro," /proc/self/mounts)"
  expect "slave sees the files" "c 1" "$(cat "$P/d/f1" 2>&1)"
  refuse "slave write: EROFS" "Read-only file system" bash -c "echo x > '$P/d/f1'"
  refuse "slave create: EROFS" "Read-only file system" touch "$P/newfile"
  hf_umount "$P" || fail "umount slave" "hf_umount $P"
fi
refuse "-o pfs=4 (slave, no root)" "no root directory" "$HF" -f -o pfs=4 "$img" "$P"
refuse "-o pfs=9 (no such PFS)" "does not exist" "$HF" -f -o pfs=9 "$img" "$P"

check_image "$img" "checker at the end"
finish
