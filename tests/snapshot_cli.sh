#!/bin/bash
# snapshot_cli.sh: hammer snapshot, snap, snaplo, snapq, snaprm, snapls,
# config and viconfig on a real hammer-fuse mount (cli/cmd_snapshot.c,
# cli/cmd_config.c).  Groups: the snapshot forms and their links (through
# the mount and a bind mount, old content, read-only, stable listings),
# snaprm in its three forms, snapshots of a master PFS, config and
# viconfig, bad input.  After each group the image is unmounted and
# `hammer -f IMG check` must be clean; records must survive the remount.
# Needs root (bind mounts, mount namespaces).
set -uo pipefail
# shellcheck source=tests/fuse_lib.sh
. "$(dirname "$0")/fuse_lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (bind mounts)"; exit 77; }

img=$work/img
m=$work/m
H=$HAMMER
mk_image "$img" 1G || exit 1
hf_mount "$img" "$m" || exit 1
BINDS=()
cleanup_binds() { local b; for b in "${BINDS[@]}"; do umount "$b" 2>/dev/null; done; }
trap 'cleanup_binds; cleanup' EXIT

TIDRE='0x[0-9a-f]{16}'
# remount IMG: unmount, checker clean, mount again
recheck() {
  cleanup_binds; BINDS=()
  hf_umount "$m" || fail "$1: unmount"
  check_image "$img" "$1: checker clean"
  hf_mount "$img" "$m" || { fail "$1: remount"; finish; exit 1; }
}
# the TID at the end of a link's text
tid_of() { readlink "$1" | grep -oE '@@0x[0-9a-f]{16}' | tail -1 | cut -c3-; }
# the TIDs (and notes) snapls prints for a path
snaptids() { "$H" snapls "$1" | tail -n +3 | cut -f1; }
has_snap() { snaptids "$1" | grep -qx "$2"; }
# run, expect exit 1 and a message containing TEXT on stderr
expect_err() {
  local name=$1 text=$2; shift 2
  local out rc
  out=$("$@" 2>&1 >/dev/null); rc=$?
  if [ "$rc" = 1 ] && [[ "$out" == *"$text"* ]]; then ok "$name"
  else fail "$name" "rc=$rc, wanted '$text' in: $(echo "$out" | head -3)"; fi
}

# ---------------------------------------------------------------- 1. snapshot
echo v1 >"$m/f"
mkdir -p "$m/snaps" "$m/d1" "$m/snaps2"
echo d1 >"$m/d1/g"
out=$("$H" snapshot "$m/snaps"); rc=$?
expect "snapshot DIR: exit 0" 0 "$rc"
if [[ "$out" =~ ^$m/snaps/snap-[0-9]{8}-[0-9]{4}$ ]] && [ -L "$out" ]; then ok "snapshot DIR: snap-YYYYMMDD-HHMM link printed"
else fail "snapshot DIR: link name" "$out"; fi
auto=$out
if [[ "$(readlink "$auto")" =~ ^$m/@@$TIDRE$ ]]; then ok "snapshot DIR: link text FS/@@0x<tid16>"
else fail "snapshot DIR: link text" "$(readlink "$auto")"; fi
expect "snapshot DIR: name is today's" "$(date +%Y%m%d)" "$(basename "$auto" | cut -d- -f2)"

out=$("$H" snapshot "$m" "$m/snaps/named" "a note")
expect "snapshot FS DIR/name: prints the link" "$m/snaps/named" "$out"
expect "snapshot FS DIR/name: link text" "$m/@@$(tid_of "$m/snaps/named")" "$(readlink "$m/snaps/named")"
tid_named=$(tid_of "$m/snaps/named")
(cd "$work" && "$H" snapshot m "m/snaps/rel" >/dev/null)
expect "snapshot with a relative FS: absolute link text" "$m/@@$(tid_of "$m/snaps/rel")" "$(readlink "$m/snaps/rel")"
out=$("$H" snapshot "$m/snaps/y%Y")
expect "snapshot DIR/name: strftime applied to the name" "$m/snaps/y$(date +%Y)" "$out"

# the TID is a synced one: no newer than what synctid says right after
sync_after=$("$H" synctid "$m")
if [ $((tid_named)) -gt 0 ] && [ "$(printf '%d' "$tid_named")" -le "$(printf '%d' "$sync_after")" ]; then ok "snapshot TID <= a later synctid"
else fail "snapshot TID vs synctid" "$tid_named vs $sync_after"; fi

# old content through the link, after later changes
echo v2 >"$m/f"; echo d1b >"$m/d1/g"; rm "$m/d1/g"; touch "$m/newfile"
expect "snapshot shows the old content" v1 "$(cat "$m/snaps/named/f")"
expect "live file changed" v2 "$(cat "$m/f")"
[ ! -e "$m/snaps/named/newfile" ] && ok "later file absent in the snapshot" || fail "later file absent in the snapshot"
expect "old directory content in the snapshot" d1 "$(cat "$m/snaps/named/d1/g")"

# through a bind mount of the whole file system
mkdir -p "$work/bind"
mount --bind "$m" "$work/bind" && BINDS+=("$work/bind")
expect "bind mount: link resolves" v1 "$(cat "$work/bind/snaps/named/f")"
out=$("$H" snap "$work/bind/snaps/viabind" bindnote)
tb=$(tid_of "$work/bind/snaps/viabind")
expect "snap in a bind mount: link points into the bind mount" "$work/bind/@@$tb" "$(readlink "$work/bind/snaps/viabind")"
expect "snap in a bind mount: resolves" v2 "$(cat "$work/bind/snaps/viabind/f")"
expect "snap in a bind mount: recorded" 1 "$(snaptids "$m" | grep -cx "$tb")"

# read-only
expect "snapshot: create is EROFS" "Read-only file system" "$(errmsg sh -c "echo x >'$m/snaps/named/new'")"
expect "snapshot: write is EROFS" "Read-only file system" "$(errmsg sh -c "echo x >>'$m/snaps/named/f'")"
expect "snapshot: unlink is EROFS" "Read-only file system" "$(errmsg rm "$m/snaps/named/f")"
expect "snapshot: mkdir is EROFS" "Read-only file system" "$(errmsg mkdir "$m/snaps/named/dd")"
expect "snapshot: chmod is EROFS" "Read-only file system" "$(errmsg chmod 600 "$m/snaps/named/f")"
expect "snapshot in bind mount: create is EROFS" "Read-only file system" "$(errmsg touch "$work/bind/snaps/named/new2")"
expect "snapshot: content unchanged after refused writes" v1 "$(cat "$m/snaps/named/f")"

# a stable listing
# (the root's ".." is the live directory holding the link, outside the snapshot)
listing() { (cd "$m/snaps/named" && ls -laR --time-style=full-iso . | grep -v ' \.\.$' && stat -c '%i %s %X %Y %Z %n' . f d1 d1/g); }
l1=$(listing)
echo v3 >"$m/f"; mkdir "$m/later"; touch "$m/d1"; "$H" synctid "$m" >/dev/null
cat "$m/snaps/named/f" >/dev/null; ls "$m/snaps/named/d1" >/dev/null
l2=$(listing)
expect "snapshot listing stable after changes and a sync" "$l1" "$l2"

# snap, snaplo, snapq
"$H" snap "$m/snaps2/s1" n1 >/dev/null
ts1=$(tid_of "$m/snaps2/s1")
expect "snap: link to the mount root" "$m/@@$ts1" "$(readlink "$m/snaps2/s1")"
expect "snap: content" v3 "$(cat "$m/snaps2/s1/f")"
"$H" snap "$m/d1" >/dev/null
lnk=$(ls "$m/d1" | grep -E '^snap-[0-9]{8}-[0-9]{4}$')
[ -n "$lnk" ] && ok "snap DIR: snap-YYYYMMDD-HHMM in DIR" || fail "snap DIR: link in DIR"
expect "snap DIR: link to the mount root" "$m/@@$(tid_of "$m/d1/$lnk")" "$(readlink "$m/d1/$lnk")"
rm -f "$m/d1"/snap-*
"$H" snaplo "$m/d1" lonote >/dev/null
lnk=$(ls "$m/d1" | grep -E '^snap-[0-9]{8}-[0-9]{4}$')
tl=$(tid_of "$m/d1/$lnk")
expect "snaplo DIR: link to DIR@@0x<tid>" "$m/d1@@$tl" "$(readlink "$m/d1/$lnk")"
[ -d "$m/d1/$lnk" ] && [ ! -e "$m/d1/$lnk/g" ] && ok "snaplo: resolves to the directory's past" || fail "snaplo: resolves"
before=$(ls -a "$m/d1")
out=$("$H" snapq "$m/d1" qnote)
if [[ "$out" =~ ^$m/d1@@$TIDRE$ ]]; then ok "snapq: prints DIR@@0x<tid>"; else fail "snapq: output" "$out"; fi
expect "snapq: makes no link" "$before" "$(ls -a "$m/d1")"
tq=${out##*@@}
expect "snapq: the record, with its note" "$tq	qnote" "$("$H" snapls "$m" | grep "^$tq" | cut -f1,3)"
[ -d "$out" ] && ok "snapq: printed path resolves" || fail "snapq: printed path resolves" "$out"
(cd "$m" && "$H" snaplo . >/dev/null)
lnk=$(cd "$m" && ls | grep -E '^snap-' | head -1)
if [[ "$(readlink "$m/$lnk")" =~ ^\./@@$TIDRE$ ]]; then ok "snaplo .: link ./@@0x<tid>"; else fail "snaplo .: link" "$(readlink "$m/$lnk")"; fi
out=$(cd "$m/d1" && "$H" snapq ..)
if [[ "$out" =~ ^\.\./@@$TIDRE$ ]]; then ok "snapq ..: ../@@0x<tid>"; else fail "snapq ..: output" "$out"; fi
(cd "$m/snaps2" && "$H" snaplo sub >/dev/null)
if [[ "$(readlink "$m/snaps2/sub")" =~ ^\./@@$TIDRE$ ]] && [ -d "$m/snaps2/sub" ]; then ok "snaplo NAME in the current dir: ./@@0x<tid>"
else fail "snaplo NAME: link" "$(readlink "$m/snaps2/sub")"; fi
(cd "$m" && "$H" snaplo snaps2/lrel >/dev/null)
expect "snaplo relative: absolute link text" "$m/snaps2@@$(tid_of "$m/snaps2/lrel")" "$(readlink "$m/snaps2/lrel")"
[ -d "$m/snaps2/lrel/s1" ] || [ -L "$m/snaps2/lrel/s1" ] && ok "snaplo relative: resolves" || fail "snaplo relative: resolves"

# snapls: DragonFly's format, unsigned TID order, notes
ls_out=$("$H" snapls "$m")
expect "snapls: header line 1" "Snapshots on $m	PFS#0" "$(echo "$ls_out" | sed -n 1p)"
expect "snapls: header line 2" "Transaction ID		Timestamp		Note" "$(echo "$ls_out" | sed -n 2p)"
bad=$(echo "$ls_out" | tail -n +3 | grep -cvE "^$TIDRE	[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [A-Z+0-9-]+	.+$")
expect "snapls: every line TID, time stamp, note" 0 "$bad"
expect "snapls: ascending TIDs" "$(snaptids "$m" | sort)" "$(snaptids "$m")"
expect "snapls: one record per snapshot taken" 13 "$(snaptids "$m" | wc -l)"
expect "snapls: the note" "$tid_named	a note" "$(echo "$ls_out" | grep "^$tid_named" | cut -f1,3)"
expect "snapls: no note is '-'" "-" "$(echo "$ls_out" | grep "^$(tid_of "$auto")" | cut -f3)"
expect "snapls: time stamp is now" "$(date +%Y-%m-%d)" "$(echo "$ls_out" | grep "^$tid_named" | cut -f2 | cut -c1-10)"
expect "snapls without a path: the current directory" "Snapshots on .	PFS#0" "$(cd "$m/d1" && "$H" snapls | head -1)"
expect "snapls of a path inside a snapshot: same PFS" "$(snaptids "$m")" "$(snaptids "$m/snaps/named")"
expect "snapls of two paths: two listings" 2 "$("$H" snapls "$m" "$m/d1" | grep -c '^Snapshots on')"
rm "$m/snaps/named"
has_snap "$m" "$tid_named" && ok "snapls: the record stays after the link is removed" || fail "snapls: record after rm of the link"
TZ=UTC "$H" snapls "$m" | grep -q " UTC	" && ok "snapls: local time zone name" || fail "snapls: time zone"
ls_before=$("$H" snapls "$m")
recheck "group snapshot"
expect "snapls after remount: identical" "$ls_before" "$("$H" snapls "$m")"
expect "snapshot after remount: old content" v1 "$(cat "$m/snaps/rel/f")"

# ---------------------------------------------------------------- 2. snaprm
n0=$(snaptids "$m" | wc -l)
"$H" snaprm "$m/snaps2/s1"; expect "snaprm LINK: exit 0" 0 "$?"
[ ! -L "$m/snaps2/s1" ] && ok "snaprm LINK: link removed" || fail "snaprm LINK: link removed"
has_snap "$m" "$ts1" && fail "snaprm LINK: record removed" || ok "snaprm LINK: record removed"
expect "snaprm LINK: one record less" $((n0 - 1)) "$(snaptids "$m" | wc -l)"
(cd "$m/d1" && "$H" snaprm "$tq"); expect "snaprm TID (current dir's PFS): exit 0" 0 "$?"
has_snap "$m" "$tq" && fail "snaprm TID: record removed" || ok "snaprm TID: record removed"
t_a=$(tid_of "$m/snaps/rel"); t_b=$(tid_of "$auto")
"$H" snaprm "$m" "$t_a" "${t_b#0x}"; expect "snaprm FS TID TID (with and without 0x): exit 0" 0 "$?"
{ has_snap "$m" "$t_a" || has_snap "$m" "$t_b"; } && fail "snaprm FS TID TID: removed" || ok "snaprm FS TID TID: both removed"
[ -L "$m/snaps/rel" ] && ok "snaprm FS TID: links are left alone" || fail "snaprm FS TID: links are left alone"
t_c=$(tid_of "$work/m/snaps/viabind")
"$H" snaprm "$m/snaps/rel" "$t_c"; expect "snaprm LINK TID: exit 0" 0 "$?"
{ has_snap "$m" "$t_c"; } && fail "snaprm LINK TID: TID removed" || ok "snaprm LINK TID: TID removed in the link's FS"
[ -L "$m/snaps/rel" ] && ok "snaprm LINK TID: the link stays" || fail "snaprm LINK TID: the link stays"
n1=$(snaptids "$m" | wc -l)
ln -s "$m/f" "$m/plainlink"; echo data >"$m/plainfile"
expect_err "snaprm of a link that is no snapshot" "is not a snapshot softlink" "$H" snaprm "$m/plainlink"
[ -L "$m/plainlink" ] && ok "snaprm of a non-snapshot link: link kept" || fail "snaprm non-snapshot: link kept"
expect_err "snaprm of a regular file" "not directory or snapshot softlink: $m/plainfile" "$H" snaprm "$m/plainfile"
expect_err "snaprm malformed TID" "not a file or tid: 0xzz" "$H" snaprm "$m" 0xzz
expect_err "snaprm TID over 64 bits" "not a file or tid: 12345678901234567" "$H" snaprm "$m" 12345678901234567
expect_err "snaprm TID in the future" "meta-data not found" "$H" snaprm "$m" 0x7fffffffffffffff
expect_err "snaprm good link then a bad one: refused" "is not a snapshot softlink" "$H" snaprm "$m/snaps/rel" "$m/plainlink"
[ -L "$m/snaps/rel" ] && ok "snaprm with a bad argument: the good link is still there" || fail "snaprm bad arg: good link kept"
expect_err "snaprm TID then a link: usage" "hammer snaprm <path>" "$H" snaprm "$t_a" "$m/snaps/rel"
expect_err "snaprm DIR alone: usage" "give the TIDs" "$H" snaprm "$m"
ln -s "$m/@@0xZZ" "$m/badtid"
expect_err "snaprm of a link with a malformed TID" "is not a snapshot softlink" "$H" snaprm "$m/badtid"
expect "snaprm errors: records unchanged" "$n1" "$(snaptids "$m" | wc -l)"
ln -s "$m/@@0x7fff000000000000" "$m/stale"
"$H" snaprm "$m/stale" 2>"$work/err"; rc=$?
expect "snaprm of a link without a record: link removed, exit 0" "0 1" "$rc $([ -L "$m/stale" ] && echo 0 || echo 1)"
grep -q "Warning: hammer snaprm 0x7fff000000000000: meta-data not found" "$work/err" && ok "snaprm stale link: DragonFly's warning" || fail "snaprm stale link: warning" "$(cat "$work/err")"
recheck "group snaprm"
expect "snaprm after remount: records stay removed" "$n1" "$(snaptids "$m" | wc -l)"

# ---------------------------------------------------------------- 3. a master PFS
"$H" pfs-master "$m/pfs1" >/dev/null || fail "pfs-master"
echo p1 >"$m/pfs1/x"
"$H" snap "$m/pfs1/s1" pnote >/dev/null
tp=$(tid_of "$m/pfs1/s1")
expect "snap in a PFS: link names the PFS" "$m/@@$tp:00001" "$(readlink "$m/pfs1/s1")"
echo p2 >"$m/pfs1/x"
expect "snap in a PFS: old content" p1 "$(cat "$m/pfs1/s1/x")"
expect "snapls PFS: header" "Snapshots on $m/pfs1	PFS#1" "$("$H" snapls "$m/pfs1" | head -1)"
expect "snapls PFS: its record" "$tp	pnote" "$("$H" snapls "$m/pfs1" | tail -n +3 | cut -f1,3)"
has_snap "$m" "$tp" && fail "PFS#0 does not list PFS#1's snapshot" || ok "PFS#0 does not list PFS#1's snapshot"
"$H" snaplo "$m/pfs1" >/dev/null
lnk=$(ls "$m/pfs1" | grep -E '^snap-' | head -1)
tl=$(tid_of "$m/pfs1/$lnk")
expect "snaplo of a PFS root: DIR/@@0x<tid>" "$m/pfs1/@@$tl" "$(readlink "$m/pfs1/$lnk")"
echo p3 >"$m/pfs1/x"
expect "snaplo of a PFS root: old content" p2 "$(cat "$m/pfs1/$lnk/x")"
"$H" snapshot "$m/pfs1" "$m/snaps/pfs1snap" >/dev/null
tps=$(tid_of "$m/snaps/pfs1snap")
expect "snapshot FS=PFS link: link text" "$m/pfs1/@@$tps" "$(readlink "$m/snaps/pfs1snap")"
expect "snapshot FS=PFS link: content" p3 "$(cat "$m/snaps/pfs1snap/x")"
has_snap "$m/pfs1" "$tps" && ok "snapshot FS=PFS link: recorded in the PFS" || fail "snapshot FS=PFS: recorded in PFS#1"
mkdir -p "$work/pb"; mount --bind "$m/pfs1" "$work/pb" && BINDS+=("$work/pb")
"$H" snap "$work/pb/bs" >/dev/null
tb=$(tid_of "$work/pb/bs")
expect "snap in a bind-mounted PFS: link to its root" "$work/pb/@@$tb" "$(readlink "$work/pb/bs")"
echo p4 >"$work/pb/x"
expect "snap in a bind-mounted PFS: old content" p3 "$(cat "$work/pb/bs/x")"
expect "snap in a bind-mounted PFS: through the main mount too" "$tb" "$(snaptids "$m/pfs1" | grep -x "$tb")"
expect "PFS snapshot: EROFS" "Read-only file system" "$(errmsg touch "$work/pb/bs/new")"
"$H" snaprm "$m/pfs1/s1"; expect "snaprm of a :NNNNN link: exit 0" 0 "$?"
has_snap "$m/pfs1" "$tp" && fail "snaprm :NNNNN link: removed from the PFS" || ok "snaprm :NNNNN link: removed from the PFS"
"$H" snaprm "$m/pfs1" "$tl"; expect "snaprm PFS-LINK TID: exit 0" 0 "$?"
has_snap "$m/pfs1" "$tl" && fail "snaprm PFS-LINK TID: removed" || ok "snaprm PFS-LINK TID: removed"
expect_err "snaprm of PFS#1's TID from PFS#0" "meta-data not found" "$H" snaprm "$m" "$tb"
has_snap "$m/pfs1" "$tb" && ok "snaprm in the wrong PFS leaves the record" || fail "snaprm wrong PFS: record kept"
pls=$("$H" snapls "$m/pfs1")
recheck "group PFS"
expect "PFS snapshots after remount" "$pls" "$("$H" snapls "$m/pfs1")"

# ---------------------------------------------------------------- 4. config
def='snapshots 1d 60d
prune     1d 5m
rebalance 1d 5m
#dedup	   1d 5m
reblock   1d 5m
recopy    30d 10m'
expect "config: DragonFly's defaults when there is no record" "$def" "$("$H" config "$m")"
expect "config without FS: the current directory" "$def" "$(cd "$m/d1" && "$H" config)"
printf 'snapshots 2d 30d\nprune 1d 10m\n' >"$work/c1"
"$H" config "$m" "$work/c1"; expect "config FS FILE: exit 0" 0 "$?"
expect "config round trip" "$(cat "$work/c1")" "$("$H" config "$m")"
"$H" config "$m" | cmp -s - "$work/c1" && ok "config round trip: byte for byte" || fail "config byte for byte"
expect "config of PFS#1: its own record (defaults)" "$def" "$("$H" config "$m/pfs1")"
expect "config of PFS#0 unchanged by PFS#1's" "$(cat "$work/c1")" "$("$H" config "$m")"
head -c 1023 /dev/zero | tr '\0' 'a' >"$work/c1023"
"$H" config "$m/pfs1" "$work/c1023"; expect "config: 1023 bytes accepted" 0 "$?"
expect "config: 1023 bytes back" 1023 "$("$H" config "$m/pfs1" | wc -c)"
head -c 1024 /dev/zero | tr '\0' 'a' >"$work/c1024"
expect_err "config: 1024 bytes refused" "too big, limit 1023 bytes" "$H" config "$m" "$work/c1024"
printf 'a\0b\n' >"$work/cnul"
expect_err "config: a NUL byte refused" "contains a NUL byte" "$H" config "$m" "$work/cnul"
expect_err "config: missing file" "$work/nofile: No such file or directory" "$H" config "$m" "$work/nofile"
expect "config: unchanged after refusals" "$(cat "$work/c1")" "$("$H" config "$m")"
: >"$work/cempty"
"$H" config "$m/pfs1" "$work/cempty"; expect "config: an empty text is a text" "" "$("$H" config "$m/pfs1")"
# viconfig
cat >"$work/ed_add" <<'EOF'
#!/bin/sh
echo "reblock 7d 1h" >>"$1"
EOF
cat >"$work/ed_seen" <<EOF
#!/bin/sh
cp "\$1" "$work/seen"
EOF
chmod +x "$work/ed_add" "$work/ed_seen"
EDITOR="$work/ed_add" "$H" viconfig "$m" >/dev/null; expect "viconfig: exit 0" 0 "$?"
expect "viconfig: the edit is stored" "$(cat "$work/c1")
reblock 7d 1h" "$("$H" config "$m")"
out=$(EDITOR=true "$H" viconfig "$m"); expect "viconfig: no edit" "hammer viconfig: no changes were made" "$out"
expect_err "viconfig: a failing editor" "the config is unchanged" env EDITOR=false "$H" viconfig "$m"
expect "viconfig: unchanged after a failing editor" "$(cat "$work/c1")
reblock 7d 1h" "$("$H" config "$m")"
out=$(env -u EDITOR VISUAL="$work/ed_add" "$H" viconfig "$m/pfs1"); expect "viconfig: VISUAL without EDITOR" "reblock 7d 1h" "$("$H" config "$m/pfs1")"
"$H" pfs-master "$m/pfs2" >/dev/null
EDITOR="$work/ed_seen" "$H" viconfig "$m/pfs2" >/dev/null
expect "viconfig without a record: DragonFly's commented text" "# No configuration present, here are some defaults
# you can uncomment.  Also remove these instructions
#
#snapshots 1d 60d
#prune     1d 5m
#rebalance 1d 5m
#dedup     1d 5m
#reblock   1d 5m
#recopy    30d 10m" "$(cat "$work/seen")"
rm -f "$work/seen"
EDITOR="$work/ed_seen" "$H" viconfig "$m/pfs2" >/dev/null
grep -q "^# No configuration present" "$work/seen" && ok "viconfig without an edit stores nothing" || fail "viconfig without an edit stores nothing"
expect_err "viconfig with two arguments" "0 or 1 argument" "$H" viconfig "$m" "$m"
# the defaults depend on the mount point: /var/tmp gets no snapshots
out=$(unshare -m sh -c "mount --bind '$m/pfs2' /var/tmp && '$H' config /var/tmp" 2>&1)
expect "config on /var/tmp: snapshots 0d 0d" "snapshots 0d 0d" "$(echo "$out" | head -1)"
expect "config on /var/tmp: the rest as usual" "$(echo "$def" | tail -n +2)" "$(echo "$out" | tail -n +2)"
cfg0=$("$H" config "$m"); cfg2=$("$H" config "$m/pfs2")
recheck "group config"
expect "config after remount (PFS#0)" "$cfg0" "$("$H" config "$m")"
expect "config after remount (PFS#2, defaults stored)" "$cfg2" "$("$H" config "$m/pfs2")"

# ---------------------------------------------------------------- 5. bad input
ls0=$("$H" snapls "$m"); ents0=$(ls -a "$m" "$m/snaps")
mkdir -p "$work/plain"
expect_err "snapshot: link dir missing" "Unable to determine softlink dir $m/nodir" "$H" snapshot "$m/nodir/x"
expect_err "snapshot: not on HAMMER" "$work/plain is not on a mounted HAMMER file system" "$H" snapshot "$work/plain"
expect_err "snapshot FS on HAMMER, missing FS" "Unable to open $m/nodir" "$H" snapshot "$m/nodir" "$m/snaps"
expect_err "snapshot: the name exists as a file" "File $m/f already exists" "$H" snapshot "$m/f"
expect_err "snap: not on HAMMER" "is not on a mounted HAMMER file system" "$H" snap "$work/plain/x"
expect_err "snap: missing directory" "Cannot open directory $m/nodir" "$H" snap "$m/nodir/x"
expect_err "snap: a file" "File $m/f exists and is not a directory" "$H" snap "$m/f"
expect_err "snaplo: not on HAMMER" "is not on a mounted HAMMER file system" "$H" snaplo "$work/plain"
expect_err "snapq: not on HAMMER" "is not on a mounted HAMMER file system" "$H" snapq "$work/plain"
expect_err "snapls: not on HAMMER" "is not on a mounted HAMMER file system" "$H" snapls "$work/plain"
expect_err "snapls: missing path" "cannot open $m/nodir" "$H" snapls "$m/nodir"
expect_err "snaprm TID: cwd not on HAMMER" "is not on a mounted HAMMER file system" sh -c "cd '$work/plain' && '$H' snaprm 0x100000000"
expect_err "config: not on HAMMER" "is not on a mounted HAMMER file system" "$H" config "$work/plain"
expect_err "snapshot: inside a snapshot (read-only)" "Read-only file system" "$H" snap "$m/snaps/pfs1snap/new"
for c in snapshot snap snaplo snapq snaprm snapls config viconfig; do
  expect_err "$c -x: unknown option" "unknown option -x" "$H" "$c" -x "$m"
done
expect_err "snap: too many arguments" "hammer snap <path>" "$H" snap "$m" a b
expect_err "snapshot: too many arguments" "hammer snapshot [<filesystem>]" "$H" snapshot "$m" "$m/snaps" n extra
expect_err "snaprm: no argument" "hammer snaprm <path>" "$H" snaprm
expect_err "config: too many arguments" "usage: hammer config" "$H" config "$m" "$work/c1" x
expect_err "snapls with -f" "works on a mounted file system" "$H" -f "$img" snapls "$m"
expect "bad input: records unchanged" "$ls0" "$("$H" snapls "$m")"
expect "bad input: no links made" "$ents0" "$(ls -a "$m" "$m/snaps")"
# a version 2 file system: no meta-data snapshots
mk_image "$work/img2" 1G -V 2 || exit 1
hf_mount "$work/img2" "$work/m2" || exit 1
mkdir "$work/m2/s"
expect_err "snap on version 2" "upgrade the filesystem to version 3" "$H" snap "$work/m2/s/x"
expect_err "snapshot on version 2" "upgrade the filesystem to version 3" "$H" snapshot "$work/m2/s"
expect_err "config on version 2" "version 3 or later" "$H" config "$work/m2"
expect "version 2: no links made" "" "$(ls "$work/m2/s")"
hf_umount "$work/m2" || fail "unmount v2"
check_image "$work/img2" "version 2 image: checker clean"
recheck "group bad input"

hf_umount "$m" || fail "final unmount"
check_image "$img" "final: checker clean"
finish
