#!/usr/bin/env bash
# fuse_history.sh: history through the mount and the control channel.
# Write, `hammer synctid MNT`, overwrite, then file@@0x<tid> and
# dir/@@0x<tid> read the past (read-only, atime = mtime = ctime); deleted
# files are still there as of the TID.  `hammer synctid|info|version` reach
# the mount through its control socket from any path inside it; another
# user may ask info and version but not synctid.
# Run alone: BUILD=build-x bash tests/fuse_history.sh
. "$(dirname "$0")/fuse_lib.sh"

img=$work/h.img
M=$work/mnt
mk_image "$img" 1G || exit 1
hf_mount "$img" "$M" || exit 1

mkdir "$M/dir"
echo "version one" > "$M/dir/file"
echo "doomed" > "$M/dir/gone"
dd if=/dev/urandom of="$work/old" bs=64k count=20 status=none
cp "$work/old" "$M/dir/bin"
tid=$("$HAMMER" synctid "$M")
expect "synctid prints a TID" yes "$([[ $tid =~ ^0x[0-9a-f]{16}$ ]] && echo yes)"
sleep 1.1	# distinct timestamps for the new versions
echo "version two, longer" > "$M/dir/file"
rm "$M/dir/gone"
dd if=/dev/urandom of="$M/dir/bin" bs=64k count=3 seek=2 conv=notrunc status=none
echo "new" > "$M/dir/added"

expect "live content" "version two, longer" "$(cat "$M/dir/file")"
expect "file@@tid" "version one" "$(cat "$M/dir/file@@$tid")"
expect "dir/@@tid/file" "version one" "$(cat "$M/dir/@@$tid/file")"
expect "dir@@tid/file" "version one" "$(cat "$M/dir@@$tid/file")"
expect "root @@tid" "version one" "$(cat "$M/@@$tid/dir/file")"
expect "deleted file in history" doomed "$(cat "$M/dir/@@$tid/gone")"
expect "binary history" ok "$(cmp "$M/dir/bin@@$tid" "$work/old" && echo ok)"
expect "listing as of tid" "bin file gone" "$(ls "$M/dir/@@$tid" | tr '\n' ' ' | sed 's/ $//')"
expect "live listing" "added bin file" "$(ls "$M/dir" | tr '\n' ' ' | sed 's/ $//')"
read -r a m c <<<"$("$HT" times "$M/dir/file@@$tid")"
expect "history atime = mtime = ctime" "$c $c" "$a $m"
expect "history st_ino is the object id" "$(stat -c %i "$M/dir/file")" "$(stat -c %i "$M/dir/file@@$tid")"
expect "history write refused" "Read-only file system" "$(errmsg sh -c "echo x > '$M/dir/file@@$tid'")"
expect "history create refused" "Read-only file system" "$(errmsg touch "$M/dir/@@$tid/new")"
expect "history unlink refused" "Read-only file system" "$(errmsg rm "$M/dir/@@$tid/file")"
expect "history chmod refused" "Read-only file system" "$(errmsg chmod 777 "$M/dir/file@@$tid")"
expect "history of a missing name" "No such file or directory" "$(errmsg cat "$M/dir/added@@$tid")"
expect "@@-1 is the live view" "version two, longer" "$(cat "$M/dir/file@@-1")"
expect "history name not creatable" "Invalid argument" "$(errmsg mkdir "$M/x@@0x0000000000000001")"
expect "@@ in an ordinary name" ok "$(errmsg touch "$M/a@@b")"

# --- control channel
expect "synctid from a subdirectory" yes "$(t=$("$HAMMER" synctid "$M/dir" quick) && [[ $t > $tid ]] && echo yes)"
info=$("$HAMMER" info "$M")
expect "info label" "Label               TEST" "$(grep -o 'Label.*' <<<"$info")"
expect "info volumes" "No. Volumes         1" "$(grep -o 'No. Volumes.*' <<<"$info")"
expect "info mount point" "Mount point         $M" "$(grep -o 'Mount point.*' <<<"$info")"
expect "info of all mounts" yes "$("$HAMMER" info | grep "Mount point         $M" >/dev/null && echo yes)"
expect "version" "min=1 wip=none max=7 current=7" "$("$HAMMER" version "$M" | head -1 | cut -d' ' -f1-4)"
expect "version -q is one line" 1 "$("$HAMMER" -q version "$M" | wc -l)"
expect "not a HAMMER mount" 1 "$("$HAMMER" synctid /proc >/dev/null 2>&1; echo $?)"
expect "synctid usage" 1 "$("$HAMMER" synctid >/dev/null 2>&1; echo $?)"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
expect "other user: synctid refused" "synctid needs root or the user who mounted" \
  "$(as_nobody "$HAMMER" synctid "$M" 2>&1 | sed 's/.*failed: //')"
expect "other user: version allowed" 0 "$(as_nobody "$HAMMER" version "$M" >/dev/null 2>&1; echo $?)"
expect "other user: info allowed" 0 "$(as_nobody "$HAMMER" info "$M" >/dev/null 2>&1; echo $?)"

# --- history survives remount
hf_umount "$M" || fail "unmount"
hf_mount "$img" "$M" || exit 1
expect "history after remount" "version one" "$(cat "$M/dir/file@@$tid")"
expect "deleted file after remount" doomed "$(cat "$M/dir/@@$tid/gone")"
hf_umount "$M" || fail "unmount 2"
check_image "$img" "checker clean"
finish
