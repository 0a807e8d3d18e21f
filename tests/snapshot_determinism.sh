#!/usr/bin/env bash
# snapshot_determinism.sh: HAMMER(5)'s deterministic snapshots on a
# hammer-fuse mount.  A tree (files of several sizes, a sparse file, empty
# and nested directories, relative, absolute, dangling and directory
# symlinks, hard links, a FIFO, modes with set-ID and sticky bits, several
# owners, mtimes set with touch -d), `hammer synctid` gives TID T, and
#   tar --sort=name --numeric-owner -cf - -C MNT/@@0x<T> . | md5sum
# gives the same sum: now, after changes to the live tree (content,
# truncate, delete, add, rename, touch -a/-m, chmod, chown, links), before
# and after they are synced, after unmount + remount, through a link to the
# snapshot (as `hammer snapshot` makes them) and a bind mount of it.
# Through the snapshot: atime = mtime = ctime for every entry, st_ino the
# same after remount, `ls -lR` the same throughout, every change refused
# with EROFS.  A master PFS mirrored to a slave (pfs-slave with its
# shared-uuid, mirror-copy): the master as of the slave's sync_end_tid and
# the slave give the same sum, then and after more changes, another
# mirror-copy and a remount.  The checker is clean after unmount.
# What Linux cannot carry over: st_dev is the FUSE mount's device number,
# not derived from the PFS's shared-uuid as on DragonFly, so a master and
# its slave (or two mounts of one image) show different st_dev; st_ino of
# PFS n > 0 carries the PFS id in bits 48..63, so it differs between a
# master and its slave.  Neither is in a tar archive.
# Run alone: BUILD=build-x bash tests/snapshot_determinism.sh
: "${BUILD:?set BUILD to the meson build dir}"
BUILD=$(cd "$BUILD" && pwd)
# shellcheck source=tests/fuse_lib.sh
. "$(dirname "$0")/fuse_lib.sh"
cd "$work" || exit 1
export TZ=UTC

tarsum() { tar --sort=name --numeric-owner -cf - -C "$1" . 2>"$work/tar.err" | md5sum | cut -d' ' -f1; }
# every entry: "%i %h %u %g %a %s name" (st_ino, links, owner, mode, size)
inodes() { (cd "$1" && find . -printf '%i %n %U %G %m %s %p\n' | sort -k7); }
# entries whose atime, mtime and ctime (to the nanosecond) are not all equal
times_differ() { (cd "$1" && find . -printf '%A@ %T@ %C@ %p\n' | awk '$1 != $2 || $2 != $3' | head -5); }
listing() { (cd "$1" && ls -lR --time-style=full-iso .); }
field() { "$HAMMER" pfs-status "$1" 2>/dev/null | sed -n "s/^    $2=//p"; }

# build_tree DIR: the same tree wherever it is made
build_tree() {
  local d=$1
  mkdir -p "$d/a/b/c" "$d/empty" "$d/tmp"
  : >"$d/zero"
  echo "hello" >"$d/small"
  seq 1 20000 >"$d/a/text"
  head -c 70000 /dev/urandom >"$d/a/over64k"
  head -c 1500000 /dev/urandom >"$d/a/b/big"
  truncate -s 5M "$d/sparse"
  echo "middle" | dd of="$d/sparse" bs=1 seek=2000000 conv=notrunc status=none
  ln -s small "$d/rel-link"
  ln -s /etc/hostname "$d/abs-link"
  ln -s nowhere "$d/dangling"
  ln -s a/b "$d/dir-link"
  ln "$d/small" "$d/a/hard1"
  ln "$d/small" "$d/a/b/hard2"
  mkfifo "$d/a/fifo"
  chmod 0600 "$d/a/text"
  chmod 4755 "$d/a/over64k"
  chmod 2750 "$d/a/b"
  chmod 1777 "$d/tmp"
  chmod 0000 "$d/zero"
  chown 1000:1000 "$d/a/text"
  chown 65534:65534 "$d/a/b/big"
  chown 0:5 "$d/tmp"
  chown -h 1234:4321 "$d/rel-link"
  touch -m -d "2001-02-03 04:05:06.789" "$d/small"
  touch -a -d "1999-12-31 23:59:59" "$d/a/text"
  for i in $(seq 1 30); do echo "file $i" >"$d/a/b/c/f$i"; done
}

# change_tree DIR: every kind of change to the live tree
change_tree() {
  local d=$1
  echo "changed" >>"$d/small"
  seq 1 5 >"$d/a/text"
  truncate -s 100 "$d/a/b/big"
  dd if=/dev/urandom of="$d/sparse" bs=4096 count=1 seek=100 conv=notrunc status=none
  rm "$d/a/b/c/f3" "$d/a/hard1" "$d/dangling"
  rm -r "$d/empty"
  mv "$d/a/b/c/f4" "$d/a/f4-moved"
  echo "new" >"$d/added"
  mkdir "$d/a/newdir"
  ln -sfn a "$d/dir-link"
  touch -a -d "2020-01-01" "$d/a/over64k"
  touch -m -d "2010-01-01" "$d/a/b/c/f5"
  touch "$d/a/b/c/f6"
  chmod 0644 "$d/a/over64k"
  chown 42:42 "$d/a/b/c/f7"
  chmod 0755 "$d/tmp"
}

# check_snapshot NAME DIR: the snapshot at DIR is what it was at first
check_snapshot() {
  local name=$1 d=$2
  expect "$name: tar | md5sum" "$sum0" "$(tarsum "$d")"
  expect "$name: ls -lR" "$(cat "$work/ls0")" "$(listing "$d")"
  expect "$name: st_ino, links, owners, modes, sizes" "$(cat "$work/ino0")" "$(inodes "$d")"
  expect "$name: atime = mtime = ctime everywhere" "" "$(times_differ "$d")"
}

img=$work/s.img
M=$work/mnt
mk_image "$img" 2G || exit 1
hf_mount "$img" "$M" || exit 1

# ---- the tree and its snapshot
build_tree "$M"
T=$("$HAMMER" synctid "$M") || fail "synctid"
expect "synctid TID" yes "$([[ $T =~ ^0x[0-9a-f]{16}$ ]] && echo yes)"
S0=$M/@@$T
sum0=$(tarsum "$S0")
listing "$S0" >"$work/ls0"
inodes "$S0" >"$work/ino0"
expect "tar of the snapshot: no warnings" "" "$(cat "$work/tar.err")"
expect "the snapshot holds the tree (49 entries)" "$(cd "$M" && find . | sort)" "$(cd "$S0" && find . | sort)"
expect "tar holds every entry" 49 "$(tar --sort=name -cf - -C "$S0" . | tar -tf - | wc -l)"
expect "hard links in the snapshot" "3 3 3" \
  "$(stat -c %h "$S0/small" "$S0/a/hard1" "$S0/a/b/hard2" | tr '\n' ' ' | sed 's/ $//')"
expect "one inode for the hard links" 1 "$(stat -c %i "$S0/small" "$S0/a/hard1" "$S0/a/b/hard2" | sort -u | wc -l)"
expect "st_ino is the live object's" "$(stat -c %i "$M/a/b/big")" "$(stat -c %i "$S0/a/b/big")"
expect "modes kept" "4755 2750 1777 0 600" \
  "$(stat -c %a "$S0/a/over64k" "$S0/a/b" "$S0/tmp" "$S0/zero" "$S0/a/text" | tr '\n' ' ' | sed 's/ $//')"
expect "owners kept" "1000:1000 65534:65534 0:5 1234:4321" \
  "$(stat -c %u:%g "$S0/a/text" "$S0/a/b/big" "$S0/tmp" | tr '\n' ' ')$(stat -c %u:%g "$S0/rel-link")"
expect "the sparse file" "middle" "$(dd if="$S0/sparse" bs=1 skip=2000000 count=6 status=none)"
expect "a FIFO in the snapshot" fifo "$(stat -c %F "$S0/a/fifo")"
expect "the snapshot's mtime is its ctime (touch -d not shown)" "$(stat -c %Z "$S0/small")" "$(stat -c %Y "$S0/small")"
expect "the live mtime is touch -d's" 981173106 "$(stat -c %Y "$M/small")"
expect "tar twice" "$sum0" "$(tarsum "$S0")"
expect "reading does not change atime" "" "$(times_differ "$S0")"

# ---- read-only
ro() { expect "read-only: $1" "Read-only file system" "$(errmsg "${@:2}")"; }
ro "create" touch "$S0/newfile"
ro "write" sh -c "echo x >'$S0/small'"
ro "append" sh -c "echo x >>'$S0/a/b/c/f1'"
ro "truncate" truncate -s 0 "$S0/a/text"
ro "unlink" rm -f "$S0/small"
ro "rmdir" rmdir "$S0/a/b/c/../../../empty"
ro "mkdir" mkdir "$S0/a/x"
ro "rename" mv "$S0/a/b/c/f1" "$S0/a/b/c/f1x"
ro "symlink" ln -s x "$S0/a/sl"
ro "hard link" ln "$S0/small" "$S0/a/h3"
ro "chmod" chmod 0777 "$S0/a/text"
ro "chown" chown 1:1 "$S0/a/text"
ro "touch -m" touch -m -d 2000-01-01 "$S0/a/text"
ro "mkfifo" mkfifo "$S0/a/f2"
check_snapshot "after the refusals" "$S0"

# ---- later changes to the live tree
change_tree "$M"
check_snapshot "after live changes, unsynced" "$S0"
T2=$("$HAMMER" synctid "$M")
check_snapshot "after live changes, synced" "$S0"
sum2=$(tarsum "$M/@@$T2")
if [ "$sum2" != "$sum0" ]; then ok "the later TID shows the changes"; else fail "the later TID shows the changes"; fi
expect "the later snapshot is stable too" "$sum2" "$(tarsum "$M/@@$T2")"

# ---- a snapshot link (what `hammer snapshot` makes) and a bind mount of it
mkdir "$M/snaps"
ln -s "$M/@@$T" "$M/snaps/snap-first"
check_snapshot "through a snapshot link" "$M/snaps/snap-first/"
mkdir -p "$work/bind"
if mount --bind "$M/snaps/snap-first" "$work/bind" 2>"$work/bind.err"; then
  expect "bind mount: tar | md5sum" "$sum0" "$(tarsum "$work/bind")"
  expect "bind mount: read-only" "Read-only file system" "$(errmsg touch "$work/bind/newfile")"
  umount "$work/bind" || fail "umount of the bind mount"
else
  echo "NOTE: no bind mount here ($(cat "$work/bind.err")); skipped"
fi

# ---- a master PFS mirrored to a slave: the master as of the slave's
# sync_end_tid and the slave give the same archive
mkdir -p "$M/pfs"
"$HAMMER" pfs-master "$M/pfs/m" >/dev/null || fail "pfs-master"
build_tree "$M/pfs/m"
"$HAMMER" synctid "$M" >/dev/null
su=$(field "$M/pfs/m" shared-uuid)
mid=$(readlink "$M/pfs/m" | sed -n 's/^@@-1:\([0-9]\{5\}\)$/\1/p')
expect "master PFS link" yes "$([ -n "$mid" ] && echo yes)"
"$HAMMER" pfs-slave "$M/pfs/s" "shared-uuid=$su" >/dev/null || fail "pfs-slave"
"$HAMMER" mirror-copy "$M/pfs/m" "$M/pfs/s" >"$work/mc.log" 2>&1 || { fail "mirror-copy"; tail -5 "$work/mc.log"; }
E=$(field "$M/pfs/s" sync-end-tid)
expect "slave sync_end_tid" yes "$([[ $E =~ ^0x[0-9a-f]{16}$ ]] && echo yes)"
msnap=$M/pfs/@@$E:$mid
msum=$(tarsum "$msnap")
expect "slave = master as of its sync_end_tid" "$msum" "$(tarsum "$M/pfs/s")"
expect "slave: ls -lR as the master's" "$(listing "$msnap")" "$(listing "$M/pfs/s")"
expect "slave: atime = mtime = ctime" "" "$(times_differ "$M/pfs/s")"
expect "slave: read-only" "Read-only file system" "$(errmsg touch "$M/pfs/s/newfile")"
expect "slave and master: other st_ino (PFS id in bits 48..63)" different \
  "$([ "$(stat -c %i "$msnap/a/b/big")" != "$(stat -c %i "$M/pfs/s/a/b/big")" ] && echo different)"
expect "slave and master: same object id (low 48 bits)" \
  "$(( $(stat -c %i "$msnap/a/b/big") & 0xffffffffffff ))" "$(( $(stat -c %i "$M/pfs/s/a/b/big") & 0xffffffffffff ))"
change_tree "$M/pfs/m"
"$HAMMER" synctid "$M" >/dev/null
expect "master changed, not mirrored: slave unchanged" "$msum" "$(tarsum "$M/pfs/s")"
expect "master changed: its old TID unchanged" "$msum" "$(tarsum "$msnap")"
"$HAMMER" mirror-copy "$M/pfs/m" "$M/pfs/s" >"$work/mc.log" 2>&1 || { fail "mirror-copy 2"; tail -5 "$work/mc.log"; }
E2=$(field "$M/pfs/s" sync-end-tid)
msum2=$(tarsum "$M/pfs/@@$E2:$mid")
expect "second mirror-copy: slave = master as of the new sync_end_tid" "$msum2" "$(tarsum "$M/pfs/s")"
if [ "$msum2" != "$msum" ]; then ok "the slave moved on"; else fail "the slave moved on"; fi

# ---- unmount and remount
hf_umount "$M" || fail "unmount"
hf_mount "$img" "$M" || exit 1
check_snapshot "after remount" "$S0"
check_snapshot "after remount, through the link" "$M/snaps/snap-first/"
expect "after remount: the later TID" "$sum2" "$(tarsum "$M/@@$T2")"
expect "after remount: master as of the first sync_end_tid" "$msum" "$(tarsum "$msnap")"
expect "after remount: slave" "$msum2" "$(tarsum "$M/pfs/s")"
hf_umount "$M" || fail "unmount 2"
check_image "$img" "checker clean after unmount"
finish
