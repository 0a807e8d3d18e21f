#!/usr/bin/env bash
# pfs_cli.sh MODE: the PFS commands of `hammer` (cli/cmd_pfs.c).
#   f     (suite cli)  every command with -f on an unmounted image, DragonFly's
#                      output, the error cases, `hammer -f IMG check` after each
#   fuse  (suite fuse) the mirroring guide's PFS steps on a hammer-fuse mount
#   many [N] (suite fuse; slow: 65535) N (or $PFS_COUNT, default 1000) pfs-master
#                      in a loop on a mount, then the checker
# Every failure prints the command that failed.  FUSE modes exit 77 without
# /dev/fuse.  Run alone: BUILD=build-x bash tests/pfs_cli.sh f|fuse|many [N]
set -uo pipefail
export LC_ALL=C
: "${BUILD:?set BUILD to the meson build dir}"
BUILD=$(cd "$BUILD" && pwd)
mode=${1:-f}
count=${2:-}
case $mode in
  f)
    HAMMER=$BUILD/cli/hammer
    NEWFS=$BUILD/cli/newfs_hammer
    for p in "$HAMMER" "$NEWFS"; do
      [ -x "$p" ] || { echo "FAIL: $p not built"; exit 1; }
    done
    work=$(mktemp -d "${TMPDIR:-/tmp}/pfs_cli.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    fails=0; passes=0
    ok()   { passes=$((passes+1)); echo "ok   [$1]"; }
    fail() { fails=$((fails+1)); echo "FAIL [$1]${2:+: $2}"; }
    finish() { echo "$passes passed, $fails failed"; [ "$fails" -eq 0 ]; }
    ;;
  fuse|many)
    # shellcheck source=tests/fuse_lib.sh
    . "$(dirname "$0")/fuse_lib.sh"
    ;;
  *) echo "usage: pfs_cli.sh f|fuse|many"; exit 1 ;;
esac
cd "$work" || exit 1

# run NAME WANT_STATUS PATTERN -- HAMMER_ARGS...: exit status, and a line of
# stdout+stderr matching PATTERN (ERE; empty: any).  Output in out.txt/err.txt.
run() {
  local name=$1 want=$2 pat=$3; shift 4
  "$HAMMER" "$@" </dev/null >out.txt 2>err.txt
  local st=$?
  if [ "$st" -ge 128 ]; then
    fail "$name" "killed by signal $((st - 128)): hammer $*"; return 1
  fi
  if [ "$st" -ne "$want" ]; then
    fail "$name" "exit $st, want $want: hammer $*"; cat out.txt err.txt | tail -n 20
    return 1
  fi
  if [ -n "$pat" ] && ! cat out.txt err.txt | grep -Eq -- "$pat"; then
    fail "$name" "no line matching /$pat/: hammer $*"; cat out.txt err.txt | tail -n 20
    return 1
  fi
  ok "$name"
}

# same NAME FILE EXPECTED-TEXT: FILE holds exactly the text
same() {
  if [ "$(cat "$2")" = "$3" ]; then ok "$1"; else
    fail "$1" "$2 differs:"; diff <(echo "$3") "$2" | head -n 20
  fi
}

# clean NAME DEVS: the offline checker finds nothing
clean() {
  local out
  if out=$("$HAMMER" -f "$2" check 2>&1); then ok "$1: check clean"; else
    fail "$1: check clean" "hammer -f $2 check: $(echo "$out" | head -n 5)"
  fi
}

UUID_RE='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
TID_RE='0x[0-9a-f]{16}'

# dump_re LABEL MODE [PRUNE]: the 4-space dump as a line-by-line ERE list
dump_check() {	# NAME FILE FIRST_LINE SYNC_END LABEL PRUNE MODE [SHARED]
  local name=$1 f=$2 first=$3 end=$4 label=$5 prune=$6 m=$7 shared=${8:-$UUID_RE}
  local want=("^${first}\$"
    '^    sync-beg-tid=0x0000000000000001$'
    "^    sync-end-tid=${end}\$"
    "^    shared-uuid=${shared}\$"
    "^    unique-uuid=${UUID_RE}\$"
    "^    label=\"${label}\"\$"
    "^    prune-min=${prune}\$"
    "^    operating as a ${m}\$"
    '^    snapshots directory defaults to /var/hammer/<pfs>$')
  local i=0 line bad=
  while IFS= read -r line; do
    if [ $i -ge ${#want[@]} ] || ! [[ $line =~ ${want[$i]} ]]; then
      bad="line $((i+1)) '$line' does not match /${want[$i]:-<end>}/"; break
    fi
    i=$((i+1))
  done <"$f"
  [ -z "$bad" ] && [ $i -ne ${#want[@]} ] && bad="$i lines, want ${#want[@]}"
  if [ -z "$bad" ]; then ok "$name"; else fail "$name" "$bad"; cat "$f"; fi
}

# ------------------------------------------------------------------ -f
mode_f() {
  local img=$work/pfs.img H
  truncate -s 1G "$img"
  "$NEWFS" -L PFS -f -u 8M "$img" >/dev/null 2>&1 || { fail "newfs_hammer $img"; return; }
  H=(-f "$img")
  clean "fresh" "$img"

  run "status of the root" 0 '^/	PFS#0 \{$' -- "${H[@]}" pfs-status /
  run "status default ." 0 '^\.	PFS#0 \{$' -- "${H[@]}" pfs-status
  run "mkdir-less master needs its parent" 1 '^hammer: Cannot open directory /nope: No such file or directory$' \
    -- "${H[@]}" pfs-master /nope/a

  run "pfs-master" 0 '^Creating PFS#1	succeeded!$' -- "${H[@]}" pfs-master /master
  dump_check "pfs-master dump" <(sed 1d out.txt) "/master" "$TID_RE" "" "00:00:00" MASTER
  local shared
  shared=$(sed -n 's/^    shared-uuid=//p' out.txt)
  [[ $shared =~ ^$UUID_RE$ ]] && ok "master: shared uuid '$shared'" || fail "master: shared uuid" "'$shared'"
  [[ $(sed -n 's/^    sync-end-tid=//p' out.txt) != 0x0000000000000001 ]] &&
    ok "master: sync-end-tid is the durable TID" || fail "master: sync-end-tid" "$(cat out.txt)"
  clean "after pfs-master" "$img"

  run "pfs-slave" 0 '^Creating PFS#2	succeeded!$' -- "${H[@]}" pfs-slave /slave shared-uuid="$shared" label=mirror
  dump_check "pfs-slave dump" <(sed 1d out.txt) "/slave" 0x0000000000000001 mirror "00:00:00" SLAVE "$shared"
  clean "after pfs-slave" "$img"

  run "status of both" 0 '' -- "${H[@]}" pfs-status /master /slave
  sed -n '1,10p' out.txt >a.txt; sed -n '11,20p' out.txt >b.txt
  dump_check "status master" <(sed '$d' a.txt) "/master	PFS#1 \\{" "$TID_RE" "" "00:00:00" MASTER "$shared"
  dump_check "status slave" <(sed '$d' b.txt) "/slave	PFS#2 \\{" 0x0000000000000001 mirror "00:00:00" SLAVE "$shared"
  [ "$(sed -n 10p out.txt)" = "}" ] && [ "$(sed -n 20p out.txt)" = "}" ] && ok "status braces" ||
    fail "status braces" "$(cat out.txt)"
  run "status through the link text" 0 '^/@@-1:00001	PFS#1 \{$' -- "${H[@]}" pfs-status /@@-1:00001
  run "status with trailing /" 0 '^/master/	PFS#1 \{$' -- "${H[@]}" pfs-status /master/

  run "update label, prune-min" 0 '^    prune-min=1d/02:03:04$' -- "${H[@]}" pfs-update /master 'label="Main data"' prune-min=1d/2:3:4 snapshots=/snaps
  same "update output" <(sed -n '1p;6,8p' out.txt) '/master
    label="Main data"
    snapshots="/snaps"
    prune-min=1d/02:03:04'
  run "status shows the update" 0 '^    label="Main data"$' -- "${H[@]}" pfs-status /master
  run "prune-min=2d" 0 '^    prune-min=2d$' -- "${H[@]}" pfs-update /master prune-min=2d snapshots-clear
  grep -q snapshots= out.txt && fail "bare snapshots-clear" "$(cat out.txt)" || ok "bare snapshots-clear"
  run "prune-min=30:00" 0 '^    prune-min=1d/06:00:00$' -- "${H[@]}" pfs-update /master prune-min=30:00 snapshots-clear=x
  run "prune-min=2 (hours)" 0 '^    prune-min=02:00:00$' -- "${H[@]}" pfs-update /master prune-min=2
  run "sync tids" 0 '^    sync-beg-tid=0x0000000000000005$' -- "${H[@]}" pfs-update /slave sync-beg-tid=5 sync-end-tid=0x100000020
  grep -qx '    sync-end-tid=0x0000000100000020' out.txt && ok "slave sync-end-tid set" ||
    fail "slave sync-end-tid set" "$(cat out.txt)"
  run "long label truncated" 0 "^    label=\"$(printf 'x%.0s' $(seq 63))\"\$" -- "${H[@]}" pfs-update /slave "label=$(printf 'x%.0s' $(seq 80))"
  clean "after updates" "$img"

  run "downgrade" 0 '^pfs-downgrade of PFS#1 \(Main data\) succeeded$' -- "${H[@]}" pfs-downgrade /master
  run "status: slave now" 0 '^    operating as a SLAVE$' -- "${H[@]}" pfs-status /master
  run "downgrade twice" 1 '^hammer: It is already a slave$' -- "${H[@]}" pfs-downgrade /master
  run "upgrade" 0 '^pfs-upgrade of PFS#1 \(Main data\) succeeded$' -- "${H[@]}" pfs-upgrade /master
  run "upgrade twice" 1 '^hammer: It is already a master$' -- "${H[@]}" pfs-upgrade /master
  run "status: master again" 0 '^    operating as a MASTER$' -- "${H[@]}" pfs-status /master
  clean "after downgrade/upgrade" "$img"

  # the error cases: exit 1, a message naming the problem, nothing changed
  # the B-tree (the header's TIDs and FIFO move: every -f run flushes)
  "$HAMMER" "${H[@]}" show 2>&1 | sed -n '/ NODE /,$p' >before.txt
  run "no path: usage" 1 '^    prune-min=\[Nd/\]hh\[:mm\[:ss\]\]$' -- "${H[@]}" pfs-master
  run "malformed shared-uuid" 1 '^hammer: option shared-uuid: error parsing uuid 1234-nope$' -- "${H[@]}" pfs-slave /bad shared-uuid=1234-nope
  run "unknown option" 1 '^hammer: invalid option: colour$' -- "${H[@]}" pfs-master /bad colour=red
  run "option without =" 1 '^hammer: option label requires an assignment$' -- "${H[@]}" pfs-master /bad label
  run "bad time spec" 1 '^hammer: option 3x: illegal time spec, use Nd or \[Nd/\]hh\[:mm\[:ss\]\]$' -- "${H[@]}" pfs-master /bad prune-min=3x
  run "relative snapshots" 1 "^option snapshots: 'rel' must be an absolute path\$" -- "${H[@]}" pfs-master /bad snapshots=rel
  run "malformed label" 1 '^hammer: option label: malformed string$' -- "${H[@]}" pfs-master /bad 'label="open'
  run "target exists" 1 '^hammer: Cannot create /master, file exists!$' -- "${H[@]}" pfs-master /master
  run "trailing /" 1 '^hammer: Invalid PFS path /new/ with trailing /$' -- "${H[@]}" pfs-master /new/
  run "parent inside a PFS" 1 '^You are attempting to access a PFS softlink from a PFS\.  It may not represent the PFS$' -- "${H[@]}" pfs-master /master/inner
  grep -qx 'via the main filesystem mount!' err.txt && ok "PFS guard: 3 lines" || fail "PFS guard: 3 lines" "$(cat err.txt)"
  run "destroy PFS#0" 1 '^hammer: You cannot destroy PFS#0$' -- "${H[@]}" pfs-destroy /
  run "upgrade PFS#0" 1 '^hammer: You cannot upgrade PFS#0 \(It should already be a master\)$' -- "${H[@]}" pfs-upgrade /
  run "downgrade PFS#0" 1 '^hammer: You cannot downgrade PFS#0$' -- "${H[@]}" pfs-downgrade /
  run "id out of range" 1 '^hammer: Cannot access /@@-1:70000: @@-1:70000 names PFS#70000, outside 0\.\.65535$' -- "${H[@]}" pfs-status /@@-1:70000
  run "missing PFS" 1 '^hammer: Cannot access /: No such file or directory$' -- "${H[@]}" pfs-status /@@-1:00077
  run "missing path" 1 '^hammer: Failed to open /nothing: No such file or directory$' -- "${H[@]}" pfs-status /nothing
  run "destroy answered no" 1 '\[y/n\] hammer: No action taken on PFS#1$' -- "${H[@]}" -d pfs-destroy /master
  run "no volumes" 1 'hammer: /no/such\.img' -- -f /no/such.img pfs-status /
  "$HAMMER" "${H[@]}" show 2>&1 | sed -n '/ NODE /,$p' >after.txt
  if cmp -s before.txt after.txt; then ok "errors changed nothing"; else
    fail "errors changed nothing" "hammer -f $img show differs:"; diff before.txt after.txt | head
  fi
  clean "after the errors" "$img"

  # destroy (-y answers, -d no countdown); the id is reused
  run "destroy slave" 0 '^pfs-destroy of PFS#2 succeeded!$' -- "${H[@]}" -y -d pfs-destroy /slave
  same "destroy slave output" out.txt "You have requested that PFS#2 ($(printf 'x%.0s' $(seq 63))) be destroyed
This will irrevocably destroy all data on this PFS!!!!!
Do you really want to do this? [y/n] y
Destroying PFS#2 ($(printf 'x%.0s' $(seq 63)))
pfs-destroy of PFS#2 succeeded!"
  run "slave link removed" 1 'Failed to open /slave' -- "${H[@]}" pfs-status /slave
  clean "after destroy" "$img"
  run "id 2 reused" 0 '^Creating PFS#2	succeeded!$' -- "${H[@]}" pfs-master /again
  run "destroy master" 0 '^Are you absolutely sure you want to destroy it\? \[y/n\] y$' -- "${H[@]}" -y -d pfs-destroy /again
  run "destroy master with countdown" 0 '^Destroying PFS#1 \(Main data\) in 5 4 3 2 1\.\. starting destruction pass$' -- "${H[@]}" -y pfs-destroy /master
  clean "after both destroys" "$img"
  run "id 1 reused" 0 '^Creating PFS#1	succeeded!$' -- "${H[@]}" pfs-master /last
  clean "at the end" "$img"
}

# ------------------------------------------------------------------ FUSE
mode_fuse() {
  local img=$work/fuse.img mnt=$work/mnt bind=$work/bind out
  mk_image "$img" 1G || { fail "newfs"; return; }
  hf_mount "$img" "$mnt" || { fail "mount $img"; return; }
  mkdir "$mnt/pfs" || fail "mkdir $mnt/pfs"
  run "pfs-master" 0 '^Creating PFS#1	succeeded!$' -- pfs-master "$mnt/pfs/test"
  dump_check "pfs-master dump" <(sed 1d out.txt) "$mnt/pfs/test" "$TID_RE" "" "00:00:00" MASTER
  local shared
  shared=$(sed -n 's/^    shared-uuid=//p' out.txt)
  [ "$(readlink "$mnt/pfs/test")" = "@@-1:00001" ] && ok "link text" ||
    fail "link text" "readlink $mnt/pfs/test: $(readlink "$mnt/pfs/test")"
  for i in 1 2 3; do echo "file $i" >"$mnt/pfs/test/f$i" || fail "write $mnt/pfs/test/f$i"; done
  mkdir "$mnt/pfs/test/dir" && echo deep >"$mnt/pfs/test/dir/deep" || fail "mkdir $mnt/pfs/test/dir"
  run "status of a file in the PFS" 0 '^'"$mnt"'/pfs/test/f1	PFS#1 \{$' -- pfs-status "$mnt/pfs/test/f1"
  mkdir -p "$bind"
  if mount --bind "$mnt/pfs/test" "$bind" 2>bind.err; then
    [ "$(cat "$bind/f2")" = "file 2" ] && [ "$(cat "$bind/dir/deep")" = deep ] &&
      ok "files through the bind mount" || fail "files through the bind mount" "cat $bind/f2: $(cat "$bind/f2")"
    run "status of the bind mount" 0 '^'"$bind"'	PFS#1 \{$' -- pfs-status "$bind"
    run "create from inside a PFS" 1 '^You are attempting to access a PFS softlink from a PFS\.' -- pfs-master "$bind/inner"
    umount "$bind" || fail "umount $bind"
  else
    echo "note: mount --bind unavailable: $(cat bind.err)"
  fi
  run "pfs-slave" 0 '^Creating PFS#2	succeeded!$' -- pfs-slave "$mnt/pfs/test-slave" shared-uuid="$shared"
  dump_check "pfs-slave dump" <(sed 1d out.txt) "$mnt/pfs/test-slave" 0x0000000000000001 "" "00:00:00" SLAVE "$shared"
  out=$(ls -l "$mnt/pfs" 2>&1)
  grep -q 'test-slave -> @@0x0000000000000001:00002$' <<<"$out" && ok "ls -l shows the slave link" ||
    fail "ls -l shows the slave link" "ls -l $mnt/pfs: $out"
  stat -L "$mnt/pfs/test-slave" >/dev/null 2>&1 && fail "slave link dangles" "stat -L $mnt/pfs/test-slave succeeded" ||
    ok "slave link dangles"
  run "status of both" 0 '^'"$mnt"'/pfs/test-slave	PFS#2 \{$' -- pfs-status "$mnt/pfs/test" "$mnt/pfs/test-slave"
  grep -q '^'"$mnt"'/pfs/test	PFS#1 {$' out.txt && ok "status lists the master" || fail "status lists the master" "$(cat out.txt)"
  run "update label" 0 '^    label="backup"$' -- pfs-update "$mnt/pfs/test-slave" label=backup
  run "exists" 1 "^hammer: Cannot create $mnt/pfs/test, file exists!\$" -- pfs-master "$mnt/pfs/test"
  ln -s @@-1:70000 "$mnt/pfs/far" || fail "ln -s @@-1:70000 $mnt/pfs/far"
  run "link naming PFS#70000" 1 "^hammer: Cannot access $mnt/pfs/far: @@-1:70000 names PFS#70000, outside 0\\.\\.65535\$" -- pfs-status "$mnt/pfs/far"
  run "destroy through it" 1 "names PFS#70000" -- -y -d pfs-destroy "$mnt/pfs/far"
  rm -f "$mnt/pfs/far"
  run "not HAMMER" 1 'is not on a mounted HAMMER file system' -- pfs-status "$work"
  # busy: an open file in the PFS
  exec 7<"$mnt/pfs/test/f1"
  run "destroy while open" 1 '^pfs-destroy of PFS#1 failed: Device or resource busy$' -- -y -d pfs-destroy "$mnt/pfs/test"
  run "downgrade while open" 1 '^hammer: pfs-downgrade of PFS#1 \(\) failed: Device or resource busy$' -- pfs-downgrade "$mnt/pfs/test"
  exec 7<&-
  hf_umount "$mnt" || fail "unmount $mnt"
  check_image "$img" "check after unmount"
  hf_mount "$img" "$mnt" || { fail "remount $img"; return; }
  [ "$(cat "$mnt/pfs/test/f3")" = "file 3" ] && [ "$(cat "$mnt/pfs/test/dir/deep")" = deep ] &&
    ok "files after remount" || fail "files after remount" "cat $mnt/pfs/test/f3"
  run "status after remount" 0 '^    label="backup"$' -- pfs-status "$mnt/pfs/test-slave"
  run "destroy slave" 0 '^pfs-destroy of PFS#2 succeeded!$' -- -y -d pfs-destroy "$mnt/pfs/test-slave"
  [ -L "$mnt/pfs/test-slave" ] && fail "slave link removed" "$mnt/pfs/test-slave still there" || ok "slave link removed"
  run "id 2 reused" 0 '^Creating PFS#2	succeeded!$' -- pfs-master "$mnt/pfs/other"
  echo x >"$mnt/pfs/other/x" || fail "write $mnt/pfs/other/x"
  hf_umount "$mnt" || fail "unmount $mnt"
  check_image "$img" "check at the end"
}

mode_many() {
  local img=$work/many.img mnt=$work/mnt n=${count:-${PFS_COUNT:-1000}} i t0 t1
  mk_image "$img" 4G || { fail "newfs"; return; }
  hf_mount "$img" "$mnt" || { fail "mount $img"; return; }
  mkdir "$mnt/pfs"
  t0=$(date +%s.%N)
  for ((i = 1; i <= n; i++)); do
    if ! "$HAMMER" pfs-master "$mnt/pfs/p$i" >out.txt 2>&1 || ! grep -qx "Creating PFS#$i	succeeded!" out.txt; then
      fail "pfs-master #$i" "hammer pfs-master $mnt/pfs/p$i: $(head -n 3 out.txt)"; break
    fi
  done
  t1=$(date +%s.%N)
  echo "created $((i - 1)) PFSs in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
  [ $((i - 1)) -eq "$n" ] && ok "$n pfs-master" || true
  if [ "$n" -ge 65535 ]; then
    run "all in use" 1 '^hammer: Cannot create .*/pfs/full, all PFSs in use$' -- pfs-master "$mnt/pfs/full"
  fi
  run "status of the last" 0 "PFS#$n {" -- pfs-status "$mnt/pfs/p$n"
  hf_umount "$mnt" || fail "unmount $mnt"
  check_image "$img" "check with $n PFSs"
  run "-f status of the last" 0 "^/pfs/p$n	PFS#$n \\{\$" -- -f "$img" pfs-status "/pfs/p$n"
}

"mode_$mode"
finish
