#!/usr/bin/env bash
# fuse_posix.sh: every operation through a real FUSE mount behaves as POSIX
# (and Linux) says: create, mkdir, rmdir, unlink, rename (over files and
# directories, RENAME_NOREPLACE, RENAME_EXCHANGE), link, symlink, readlink,
# mknod, chmod, chown, utimens with microseconds, truncate, O_APPEND,
# O_TRUNC, a sparse file beyond 4 GiB, readdir of 1000 entries with stable
# offsets, statfs, xattrs (ENOTSUP), open-but-unlinked files, permissions
# for another user, set-group-ID directories; then the data survives an
# unmount and a remount, and the checker is clean.
# Run alone: BUILD=build-x bash tests/fuse_posix.sh
. "$(dirname "$0")/fuse_lib.sh"

img=$work/a.img
M=$work/mnt
mk_image "$img" 2G || exit 1
hf_mount "$img" "$M" || exit 1
cd "$M" || exit 1

# --- files and directories
echo hello > f
expect "create+read" hello "$(cat f)"
expect "size" 6 "$(stat -c %s f)"
expect "new file owner" "0:0" "$(stat -c %u:%g f)"
expect "st_ino is the object id, not 1" yes "$([ "$(stat -c %i f)" -gt 1 ] && echo yes)"
expect "root inode" 1 "$(stat -c %i .)"
mkdir d
expect "mkdir type" directory "$(stat -c %F d)"
expect "mkdir exists" "File exists" "$(errmsg mkdir d)"
expect "create over dir" "Is a directory" "$(errmsg sh -c 'echo x > d')"
touch d/inner
expect "rmdir non-empty" "Directory not empty" "$(errmsg rmdir d)"
expect "unlink dir" "Is a directory" "$(errmsg unlink d)"
expect "rmdir file" "Not a directory" "$(errmsg rmdir f)"
rm d/inner && rmdir d
expect "rmdir" no "$([ -e d ] && echo yes || echo no)"
expect "unlink missing" "No such file or directory" "$(errmsg rm nothere)"
long=$(printf 'n%.0s' $(seq 256))
expect "name too long" "File name too long" "$(errmsg touch "$long")"
expect "name of 255" ok "$(errmsg touch "${long:1}")"
rm -f "${long:1}"

# --- rename
echo one > r1; echo two > r2
mv r1 r2
expect "rename over file" "one" "$(cat r2)"
expect "old name gone" no "$([ -e r1 ] && echo yes || echo no)"
mkdir da db; touch da/x
mv da db.new && mv db.new da
expect "rename dir" yes "$([ -f da/x ] && echo yes)"
mkdir da2; touch da2/z
expect "rename dir over empty dir" ok "$("$HT" rename2 none da2 db)"
expect "moved dir content" yes "$([ -f db/z ] && [ ! -e da2 ] && echo yes)"
mkdir de; touch de/y
expect "rename dir over non-empty dir" ENOTEMPTY "$("$HT" rename2 none da de)"
expect "rename file over dir" EISDIR "$("$HT" rename2 none r2 de)"
expect "rename dir over file" ENOTDIR "$("$HT" rename2 none de r2)"
expect "rename dir into itself" EINVAL "$("$HT" rename2 none da da/sub)"
echo a > ra; echo b > rb
mkdir -p mv1/moved mv2
mv mv1/moved mv2/
expect "moved dir: .. names the new parent" "$(stat -c %i mv2)" "$(ls -ia mv2/moved | awk '$2==".."{print $1}')"
expect "RENAME_NOREPLACE refused" EEXIST "$("$HT" rename2 noreplace ra rb)"
expect "RENAME_NOREPLACE kept target" b "$(cat rb)"
expect "RENAME_NOREPLACE to new" ok "$("$HT" rename2 noreplace ra rc)"
expect "RENAME_EXCHANGE" ok "$("$HT" rename2 exchange rb rc)"
expect "RENAME_EXCHANGE swapped" "a b" "$(cat rb) $(cat rc)"
expect "RENAME_EXCHANGE file/dir" ok "$("$HT" rename2 exchange rb de)"
expect "RENAME_EXCHANGE file/dir swapped" "yes yes" \
  "$([ -f de ] && echo yes) $([ -f rb/y ] && echo yes)"
expect "RENAME_EXCHANGE missing" ENOENT "$("$HT" rename2 exchange rc nothere)"
expect "RENAME_WHITEOUT" EINVAL "$("$HT" rename2 whiteout rc rw)"

# --- hard links, symlinks, special files
echo data > l1
ln l1 l2
expect "link nlink" 2 "$(stat -c %h l1)"
expect "link same inode" "$(stat -c %i l1)" "$(stat -c %i l2)"
c0=$(stat -c %Z l2); sleep 1.1
rm l1
expect "unlink one link" "1 data" "$(stat -c %h l2) $(cat l2)"
expect "unlink moves the survivor's ctime" yes "$([ "$(stat -c %Z l2)" -gt "$c0" ] && echo yes)"
expect "unlink moves the dir's mtime" yes "$([ "$(stat -c %Y .)" -gt "$c0" ] && echo yes)"
expect "link to dir" "Operation not permitted" "$(errmsg link da dalink)"
ln -s l2 s1
expect "symlink" "l2 data" "$(readlink s1) $(cat s1)"
t=$(printf 'x%.0s' $(seq 1000))
ln -s "$t" s2
expect "long symlink" 1000 "$(readlink s2 | tr -d '\n' | wc -c)"
expect "symlink size" 1000 "$(stat -c %s s2)"
mkfifo p1
expect "fifo" fifo "$(stat -c %F p1)"
mknod c1 c 1 3
expect "char device rdev" "character special file 1 3" "$(stat -c '%F %t %T' c1)"

# --- attributes
chmod 0640 f
expect "chmod" 640 "$(stat -c %a f)"
chmod 4755 f
expect "chmod suid" 4755 "$(stat -c %a f)"
chown 1234:5678 f
expect "chown" "1234:5678" "$(stat -c %u:%g f)"
before=$(stat -c %Z f); sleep 1.1; chmod 600 f
expect "chmod moves ctime" yes "$([ "$(stat -c %Z f)" -gt "$before" ] && echo yes)"
expect "utimens" ok "$("$HT" utimens f 1000000000 123456789 1500000000 987654321)"
read -r at mt _ <<<"$("$HT" times f)"
expect "atime in microseconds" 1000000000.123456000 "$at"
expect "mtime in microseconds" 1500000000.987654000 "$mt"
touch -d '2001-02-03 04:05:06.654321' f
expect "touch -d keeps microseconds" "2001-02-03 04:05:06.654321000" \
  "$(stat -c %y f | cut -c1-29)"
touch f; now=$(date +%s)
expect "touch sets now" yes "$(d=$(( now - $(stat -c %Y f) )); [ "$d" -ge 0 ] && [ "$d" -le 2 ] && echo yes)"

# --- truncate, O_TRUNC, O_APPEND
printf 'abcdefgh' > t
truncate -s 3 t
expect "truncate shrink" abc "$(cat t)"
truncate -s 6 t
expect "truncate grow zero-fills" "616263000000" "$(od -An -tx1 t | tr -d ' \n')"
echo x > t
expect "O_TRUNC" 2 "$(stat -c %s t)"
: > ap; echo a >> ap; echo b >> ap
expect "O_APPEND" "a b" "$(tr '\n' ' ' < ap | sed 's/ $//')"
: > ap2
pids=()
for w in 1 2 3 4; do
  ( for i in $(seq 200); do echo "writer$w line $i padding-padding-padding" >> ap2; done ) &
  pids+=($!)
done
wait "${pids[@]}"
expect "concurrent O_APPEND lines" 800 "$(wc -l < ap2)"
expect "concurrent O_APPEND intact" 800 "$(grep -c '^writer[1-4] line [0-9]* padding-padding-padding$' ap2)"

# --- large and sparse
dd if=/dev/urandom of="$work/chunk" bs=1M count=2 status=none
dd if="$work/chunk" of=sparse bs=1M seek=5120 conv=notrunc status=none
expect "sparse size" $((5120*1024*1024 + 2*1024*1024)) "$(stat -c %s sparse)"
expect "sparse data at 5 GiB" ok "$(cmp <(dd if=sparse bs=1M skip=5120 status=none) "$work/chunk" >/dev/null && echo ok)"
expect "hole at 4 GiB reads zeros" 0 "$(dd if=sparse bs=1M skip=4096 count=1 status=none | tr -d '\0' | wc -c)"
dd if=/dev/urandom of="$work/big" bs=1M count=64 status=none
cp "$work/big" big
expect "64 MiB file" ok "$(cmp big "$work/big" && echo ok)"

# --- readdir
mkdir many
for i in $(seq 1000); do : > "many/entry-$i"; done
expect "readdir 1000" 1000 "$(ls many | wc -l)"
expect "readdir names" "$(seq 1000 | sed 's/^/entry-/' | sort)" "$(ls many | sort)"
expect "readdir d_ino = st_ino" "$(stat -c %i many/entry-77)" "$(ls -i many | awk '$2=="entry-77"{print $1}')"
expect "ls -l (readdirplus)" 1000 "$(ls -l many | grep -c '^-rw')"
expect "readdir while unlinking" "1000 seen, 0 duplicates" "$("$HT" drain many)"
expect "drained" 0 "$(ls many | wc -l)"
rmdir many

# --- statfs, xattrs, unlinked files
read -r bs blocks free namemax <<<"$(stat -f -c '%S %b %f %l' .)"
expect "statfs block size" 16384 "$bs"
expect "statfs name max" 255 "$namemax"
expect "statfs sizes" yes "$([ "$blocks" -gt 100000 ] && [ "$free" -gt 0 ] && [ "$free" -le "$blocks" ] && echo yes)"
expect "xattrs are ENOTSUP" "get=EOPNOTSUPP list=EOPNOTSUPP set=EOPNOTSUPP remove=EOPNOTSUPP" "$("$HT" xattr f)"
expect "xattrs on a dir too" "get=EOPNOTSUPP list=EOPNOTSUPP set=EOPNOTSUPP remove=EOPNOTSUPP" "$("$HT" xattr da)"
expect "open after unlink" ok "$("$HT" unlinked gone)"
expect "fsync" ok "$(errmsg dd if=/dev/zero of=fs bs=4k count=4 conv=fsync status=none)"
expect "fdatasync" ok "$(errmsg dd if=/dev/zero of=fs bs=4k count=4 conv=fdatasync status=none)"
expect "sync -f" ok "$(errmsg sync -f .)"

# --- other users (kernel checks with default_permissions; root mounts allow_other)
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
mkdir priv pub; chmod 700 priv; chmod 1777 pub
echo secret > priv/s; echo open > readable; chmod 644 readable
echo mine > rootonly; chmod 600 rootonly
expect "other user reads 0644" open "$(as_nobody cat readable 2>&1)"
expect "other user refused 0600" "Permission denied" "$(errmsg as_nobody cat rootonly)"
expect "other user refused dir 0700" "Permission denied" "$(errmsg as_nobody ls priv)"
expect "other user refused write" "Permission denied" "$(errmsg as_nobody sh -c 'echo x >> readable')"
expect "other user refused create" "Permission denied" "$(errmsg as_nobody touch newfile)"
expect "other user refused chmod" "Operation not permitted" "$(errmsg as_nobody chmod 777 readable)"
expect "other user refused chown" "Operation not permitted" "$(errmsg as_nobody chown 65534 readable)"
echo x > suidf; chmod 4777 suidf
as_nobody sh -c 'echo y >> suidf'
expect "write by another user clears set-user-ID" 777 "$(stat -c %a suidf)"
as_nobody touch pub/theirs
expect "create as other user" "65534:65534" "$(stat -c %u:%g pub/theirs)"
touch pub/rootfile
expect "sticky dir protects" "Operation not permitted" "$(errmsg as_nobody rm -f pub/rootfile)"
mkdir sg; chgrp 4242 sg; chmod 2775 sg
touch sg/file; mkdir sg/sub
expect "setgid dir: group inherited" 4242 "$(stat -c %g sg/file)"
expect "setgid dir: subdir keeps the bit" "4242 2" "$(stat -c '%g %a' sg/sub | cut -c1-6)"

# --- the data survives unmount and remount; the checker is clean
cd / || exit 1
sums() { (cd "$M" && find . -path ./sparse -prune -o -type f -print0 | sort -z | xargs -0 md5sum; \
          find . -printf '%p %y %m %U %G %s %T@\n' | sort); }
sums > "$work/before"
if hf_umount "$M"; then ok "unmount"; else fail "unmount" "daemon exit status $?"; fi
check_image "$img" "checker clean after unmount"
hf_mount "$img" "$M" || exit 1
sums > "$work/after"
expect "remount: same tree and data" "" "$(diff "$work/before" "$work/after")"
expect "remount: sparse data" ok "$(cmp <(dd if="$M/sparse" bs=1M skip=5120 status=none) "$work/chunk" >/dev/null && echo ok)"
hf_umount "$M" || fail "second unmount"
check_image "$img" "checker clean after remount"

# --- read-ahead: the mount's bdi gets -o readahead (default 4M) once INIT
# is done; the kernel's own 128K with readahead=0; plain fuse mounts too
ra_of() { local d; d=$(awk -v m="$M" '$5 == m {d = $3} END {print d}' /proc/self/mountinfo)
  cat "/sys/class/bdi/$d-fuseblk/read_ahead_kb" 2>/dev/null || cat "/sys/class/bdi/$d/read_ahead_kb"; }
for c in ":4096" "readahead=1M:1024" "readahead=0:128" "noblkdev:4096"; do
  opt=${c%%:*}
  hf_mount "$img" "$M" ${opt:+-o "$opt"} || exit 1
  ls "$M" >/dev/null
  expect "read-ahead ${opt:-default}" "${c#*:}" "$(ra_of)"
  hf_umount "$M" || fail "unmount (${opt:-default})"
done
expect "readahead= refuses junk" 1 "$("$HF" -f -o readahead=lots "$img" "$M" >/dev/null 2>&1; echo $?)"
finish
