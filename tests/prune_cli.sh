#!/bin/bash
# prune_cli.sh: hammer prune and prune-everything on a real hammer-fuse
# mount (cli/cmd_prune.c, ref/prune.c).  Groups: a file rewritten over many
# synced versions with snapshots at some of them: prune keeps every
# snapshot's content, the fine-grained history after the newest snapshot
# and the live file, and removes the versions between snapshots (history
# lists fewer TIDs, pruned versions no longer read back); meta-data
# snapshots alone (links removed) drive a prune too; prune_min keeps the
# newest snapshots' intervals; prune-everything removes every snapshot
# record and all history; a master PFS mirrored to a slave, pruned between
# two incremental mirror-copies: the slave still equals the master as of
# its sync_end_tid; bad input.  The checker is clean after each group.
set -uo pipefail
# shellcheck source=tests/fuse_lib.sh
. "$(dirname "$0")/fuse_lib.sh"

img=$work/img
m=$work/m
snaps=$work/snaps
H=$HAMMER
mk_image "$img" 1G || exit 1
hf_mount "$img" "$m" || exit 1
mkdir -p "$snaps"

recheck() {
  hf_umount "$m" || fail "$1: unmount"
  check_image "$img" "$1: checker clean"
  hf_mount "$img" "$m" || { fail "$1: remount"; finish; exit 1; }
}
# the TIDs `hammer history` lists for a file (one per line)
hist() { "$H" history "$1" | grep -oE '^ +[0-9a-f]{16} ' | tr -d ' '; }
# a version of the file: 64 KiB of one repeated byte (its number)
version() { head -c 65536 /dev/zero | tr '\0' "\\$(printf '%03o' "$1")"; }

# --- 1: prune with snapshot links ------------------------------------
declare -A sum tidof
for i in $(seq 1 12); do
  version "$i" > "$m/f"
  t=$("$H" synctid "$m")
  tidof[$i]=$t
  sum[$i]=$(version "$i" | md5sum | cut -c1-32)
  case $i in 3|7|10) "$H" snapshot "$m" "$snaps/s$i" > /dev/null || fail "snapshot $i";; esac
done
before=$(hist "$m/f" | wc -l)
out=$("$H" prune "$snaps" 2>&1); rc=$?
expect "prune exits 0" 0 "$rc"
expect "prune counts the snapshots" "Prune $m/: 3 snapshots" "$(grep ': 3 snapshots' <<<"$out")"
echo "$out" | grep -q "^Prune $m/ succeeded$" && ok "prune succeeded" || fail "prune succeeded" "$out"
pruned=$(sed -n 's/^Pruned \([0-9]*\)\/.*/\1/p' <<<"$out")
[ "${pruned:-0}" -gt 0 ] && ok "prune destroyed records ($pruned)" || fail "prune destroyed records" "$out"
after=$(hist "$m/f" | wc -l)
[ "$after" -lt "$before" ] && ok "history shorter ($before -> $after TIDs)" ||
  fail "history shorter" "$before -> $after"
for i in 3 7 10; do
  expect "snapshot s$i reads as before" "${sum[$i]}" "$(md5sum < "$snaps/s$i/f" | cut -c1-32)"
done
for i in 11 12; do	# after the newest snapshot: fine-grained history stays
  expect "version $i (after the newest snapshot) kept" "${sum[$i]}" \
    "$(md5sum < "$m/f@@${tidof[$i]}" | cut -c1-32)"
done
for i in 4 5 8; do	# between snapshots: gone (ENOENT, or another version)
  got=$(md5sum < "$m/f@@${tidof[$i]}" 2>/dev/null | cut -c1-32)
  err=$(cat "$m/f@@${tidof[$i]}" 2>&1 > /dev/null)
  case $err in *"Input/output"*) fail "version $i reads as an I/O error" "$err";; esac
  [ "$got" != "${sum[$i]}" ] && ok "version $i (between snapshots) pruned" ||
    fail "version $i (between snapshots) pruned" "still reads back"
done
expect "live file intact" "${sum[12]}" "$(md5sum < "$m/f" | cut -c1-32)"
out=$("$H" prune "$snaps" 2>&1)
expect "a second prune finds nothing" "0" "$(sed -n 's/^Pruned \([0-9]*\)\/.*/\1/p' <<<"$out")"
recheck "prune with links"

# --- 2: meta-data snapshots alone --------------------------------------
rm -f "$snaps"/s*
for i in 13 14 15 16; do
  version "$i" > "$m/f"
  t=$("$H" synctid "$m"); tidof[$i]=$t; sum[$i]=$(version "$i" | md5sum | cut -c1-32)
  [ "$i" = 14 ] && { "$H" snapshot "$m" "$snaps/s14" > /dev/null; rm "$snaps/s14"; }
done
# no links in the directory given: it names the file system (DragonFly's rule)
out=$("$H" prune "$m" 2>&1)
grep -q "^Prune $m: 4 snapshots" <<<"$out" && ok "records alone name the snapshots" ||
  fail "records alone name the snapshots" "$out"
expect "meta-data snapshot 14 reads as before" "${sum[14]}" \
  "$(md5sum < "$m/f@@${tidof[14]}" | cut -c1-32)"
expect "older snapshot 10 still reads" "${sum[10]}" "$(md5sum < "$m/f@@${tidof[10]}" | cut -c1-32)"
got=$(md5sum < "$m/f@@${tidof[13]}" | cut -c1-32)
[ "$got" != "${sum[13]}" ] && ok "version 13 (between 10 and 14) pruned" ||
  fail "version 13 pruned" "still reads back"

# --- 3: prune_min keeps the newest snapshots' intervals ----------------
# snapshots 14 and older are seconds old; 19 is made after a pause and a
# prune_min of 3 s spares the interval below it (17 stays), not below 14
version 21 > "$m/f"; t=$("$H" synctid "$m"); tidof[21]=$t; sum[21]=$(version 21 | md5sum | cut -c1-32)
"$H" snapshot "$m" "$snaps/s21" > /dev/null
sleep 4
for i in 17 18 19 20; do
  version "$i" > "$m/f"
  t=$("$H" synctid "$m"); tidof[$i]=$t; sum[$i]=$(version "$i" | md5sum | cut -c1-32)
  [ "$i" = 19 ] && "$H" snapshot "$m" "$snaps/s19" > /dev/null
done
"$H" pfs-update "$m" prune-min=00:00:03 > /dev/null || fail "pfs-update prune-min"
out=$("$H" prune "$m" 2>&1)
grep -q "prune_min is 0d/00:00:03" <<<"$out" && ok "prune_min printed" || fail "prune_min printed" "$out"
grep -q "Will not clean between the teeth of the first 1 snapshots" <<<"$out" &&
  ok "prune_min spares the young snapshot" || fail "prune_min spares the young snapshot" "$out"
expect "version 17 (below the young snapshot) kept" "${sum[17]}" \
  "$(md5sum < "$m/f@@${tidof[17]}" | cut -c1-32)"
expect "snapshot 21 reads as before" "${sum[21]}" "$(md5sum < "$m/f@@${tidof[21]}" | cut -c1-32)"
"$H" pfs-update "$m" prune-min=1d > /dev/null
out=$("$H" prune "$m" 2>&1)
grep -q "^Prune $m: 0 snapshots" <<<"$out" && grep -q "No snapshots found" <<<"$out" &&
  ok "prune_min of a day: every snapshot young, nothing to prune" ||
  fail "prune_min of a day" "$out"
"$H" pfs-update "$m" prune-min=0 > /dev/null
recheck "meta-data snapshots and prune_min"

# --- 4: -t stops a prune early, a later run finishes --------------------
out=$("$H" -t 1 prune "$snaps" 2>&1); rc=$?
expect "prune -t exits 0" 0 "$rc"
grep -qE "^Prune .* (succeeded|interrupted by timer( at .*)?)$" <<<"$out" && ok "prune -t reports" ||
  fail "prune -t reports" "$out"

# --- 5: prune-everything -------------------------------------------------
out=$("$H" prune-everything "$m" 2>&1); rc=$?
expect "prune-everything exits 0" 0 "$rc"
grep -q "^Prune $m: EVERYTHING" <<<"$out" && ok "prune-everything says so" || fail "prune-everything says so" "$out"
expect "no snapshot records left" "" "$("$H" snapls "$m" | tail -n +3)"
expect "one version left in history" 1 "$(hist "$m/f" | wc -l)"
expect "live file intact after prune-everything" "${sum[20]}" "$(md5sum < "$m/f" | cut -c1-32)"
recheck "prune-everything"

# --- 6: mirroring across a prune ---------------------------------------
"$H" pfs-master "$m/pm" > /dev/null || fail "pfs-master"
su=$("$H" pfs-status "$m/pm" | sed -n 's/^ *shared-uuid=//p')
"$H" pfs-slave "$m/ps" shared-uuid="$su" > /dev/null || fail "pfs-slave"
for i in 1 2 3; do version "$i" > "$m/pm/a$i"; done
"$H" synctid "$m/pm" > /dev/null
"$H" mirror-copy "$m/pm" "$m/ps" > /dev/null 2>&1 || fail "first mirror-copy"
mkdir -p "$work/ps"
"$H" snapshot "$m/pm" "$work/ps/one" > /dev/null
for i in 4 5 6; do version "$i" > "$m/pm/a1"; rm -f "$m/pm/a2"; version "$i" > "$m/pm/b$i"; "$H" synctid "$m/pm" > /dev/null; done
"$H" snapshot "$m/pm" "$work/ps/two" > /dev/null
version 9 > "$m/pm/a3"; "$H" synctid "$m/pm" > /dev/null
"$H" prune "$work/ps" > /dev/null 2>&1 || fail "prune of the master"
"$H" mirror-copy "$m/pm" "$m/ps" > /dev/null 2>&1 || fail "incremental mirror-copy after prune"
end=$("$H" pfs-status "$m/ps" | sed -n 's/^ *sync-end-tid=//p')
if diff -r "$m/pm@@$end:00001" "$m/ps" > "$work/diff" 2>&1 ||
   diff -r "$m/pm/@@$end" "$m/ps" > "$work/diff" 2>&1; then
  ok "slave equals the master as of its sync_end_tid after a prune"
else
  fail "slave equals the master after a prune" "$(head -5 "$work/diff")"
fi
diff -r "$m/pm" "$m/ps" > /dev/null 2>&1 && ok "slave equals the live master" ||
  fail "slave equals the live master"
out=$("$H" prune-everything "$m/ps" 2>&1); rc=$?
expect "prune-everything of a slave runs" 0 "$rc"
diff -r "$m/pm" "$m/ps" > /dev/null 2>&1 && ok "slave intact after its prune" ||
  fail "slave intact after its prune"
recheck "mirroring across a prune"

# --- 7: bad input -----------------------------------------------------------
out=$("$H" prune 2>&1); rc=$?
expect "prune without argument: exit 1" 1 "$rc"
grep -q "hammer prune <softlink-dir>" <<<"$out" && ok "usage printed" || fail "usage printed" "$out"
out=$("$H" prune "$work/nonexistent" 2>&1); rc=$?
expect "missing directory: exit 1" 1 "$rc"
grep -q "No such file or directory" <<<"$out" && ok "missing directory named" || fail "missing directory named" "$out"
out=$("$H" prune "$m/f" 2>&1); rc=$?
expect "a file as softlink dir: exit 1" 1 "$rc"
mkdir -p "$work/foreign"
ln -s /etc/@@0x0000000100000001 "$work/foreign/alien"
ln -s "$m/@@-1" "$work/foreign/notasnapshot"
out=$("$H" prune "$work/foreign" 2>&1); rc=$?
[ "$rc" != 0 ] && ok "foreign links refused (exit $rc)" || fail "foreign links refused" "$out"
grep -qi "not HAMMER\|cannot be reached\|hammer-fuse" <<<"$out" && ok "foreign file system named" ||
  fail "foreign file system named" "$out"
out=$("$H" prune-everything /tmp 2>&1); rc=$?
[ "$rc" != 0 ] && ok "prune-everything of a non-HAMMER path refused" || fail "non-HAMMER refused" "$out"
out=$("$H" prune a b 2>&1); rc=$?
expect "two arguments: exit 1" 1 "$rc"
expect "live file intact after bad input" "${sum[20]}" "$(md5sum < "$m/f" | cut -c1-32)"
hf_umount "$m" || fail "final unmount"
check_image "$img" "final checker clean"
finish
