#!/bin/bash
# cleanup_cli.sh: hammer cleanup and abort-cleanup on a real hammer-fuse
# mount (cli/cmd_cleanup.c).  Groups: the first run on a file system with
# history creates the config record (DragonFly's defaults), the snapshots
# directory under $HAMMER_SNAPSHOTS_BASE, a snapshot (link and record) and
# the .<directive>.period files, and runs prune, rebalance, reblock and
# recopy; a second run the same day skips everything; -F runs everything
# again; expiry removes snap-yyyymmdd-HHMM links and records older than the
# retention (a record made through the control socket with an old time
# stamp) and keeps young ones; "snapshots 0d 0d" makes prune a
# prune-everything, "0d 60d" with snapshots left only expires them and
# warns at prune; a period counts whole days; a master and a slave PFS (the
# slave: no snapshots, prune and the rest run); no arguments: every
# hammer-fuse mount (in a private mount namespace holding only ours), each
# PFS once; bad config text and bad paths: clear errors, nothing done;
# abort-cleanup terminates a running cleanup and removes stale pid files.
# The checker is clean after each group.
set -uo pipefail
# shellcheck source=tests/fuse_lib.sh
. "$(dirname "$0")/fuse_lib.sh"

img=$work/img
m=$work/m
H=$HAMMER
export HAMMER_SNAPSHOTS_BASE=$work/var HAMMER_CLEANUP_PIDDIR=$work/run
mkdir -p "$work/run"
sd=$work/var$m		# the default snapshots directory of $m
mk_image "$img" 1G || exit 1
hf_mount "$img" "$m" || exit 1

recheck() {
  hf_umount "$m" || fail "$1: unmount"
  check_image "$img" "$1: checker clean"
  hf_mount "$img" "$m" || { fail "$1: remount"; finish; exit 1; }
}
# the lines "<directive> - <what>" of a run, as "directive=what" words
states() { sed -n 's/^ *\([a-z]*\) - \([a-z]*\).*/\1=\2/p' <<<"$1" | tr '\n' ' ' | sed 's/ $//'; }
nrec() { "$H" snapls "$1" | tail -n +3 | grep -c .; }
hist() { "$H" history "$1" | grep -cE '^ +[0-9a-f]{16} '; }
# snap-add through the control socket: a record with any time stamp
old_record() {	# old_record PATH PFS TID TS_SECONDS
  python3 - "$@" <<'EOF'
import os, socket, sys
path, pfs, tid, ts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
st = os.stat(path)
name = "%d:%d.sock" % (os.major(st.st_dev), os.minor(st.st_dev))
for d in ("/run/hammer-fuse", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/nonexistent"), "hammer-fuse")):
    p = os.path.join(d, name)
    if os.path.exists(p):
        break
s = socket.socket(socket.AF_UNIX)
s.connect(p)
s.sendall(("snap-add %s %s %d %s\n" % (pfs, tid, ts * 1000000, b"old".hex())).encode())
r = b""
while True:
    k = s.recv(4096)
    if not k:
        break
    r += k
sys.exit(0 if r.startswith(b"0 ") else 1)
EOF
}

# --- 1: the first run -----------------------------------------------------
for i in 1 2 3 4 5; do
  head -c 40000 /dev/urandom > "$m/f"; mkdir -p "$m/d$i"; echo "$i" > "$m/d$i/g"
  "$H" synctid "$m" > /dev/null
done
rm -rf "$m/d2"; "$H" synctid "$m" > /dev/null
sum=$(md5sum < "$m/f")
h0=$(hist "$m/f")
out=$("$H" cleanup "$m" 2>&1); rc=$?
expect "first run exits 0" 0 "$rc"
expect "header line" "cleanup $(printf '%-20s' "$m") - handle PFS#0 using $sd" "$(head -1 <<<"$out")"
expect "every directive runs" "snapshots=run prune=run rebalance=run reblock=run recopy=run" "$(states "$out")"
grep -q '^ *reblock - run\.\.\.\.$' <<<"$out" && ok "reblock prints a dot a command" || fail "reblock dots" "$out"
grep -q '^ *rebalance - run\.\.$' <<<"$out" && ok "rebalance prints two dots" || fail "rebalance dots" "$out"
expect "config created with the defaults" "$(printf 'snapshots 1d 60d\nprune     1d 5m\nrebalance 1d 5m\n#dedup\t   1d 5m\nreblock   1d 5m\nrecopy    30d 10m')" "$("$H" config "$m")"
links=$(find "$sd" -maxdepth 1 -type l -name 'snap-*' | wc -l)
expect "one snapshot link in the snapshots dir" 1 "$links"
link=$(find "$sd" -maxdepth 1 -type l -name 'snap-*' | head -1)
case $(readlink "$link") in "$m/@@0x"*) ok "link points at an as-of path";; *) fail "link target" "$(readlink "$link")";; esac
expect "snapshot reads the live file" "$sum" "$(md5sum < "$link/f")"
expect "one snapshot record" 1 "$(nrec "$m")"
for d in snapshots prune rebalance reblock recopy; do
  if grep -qE '^0x[0-9a-f]{8,}$' "$sd/.$d.period" 2>/dev/null; then ok ".$d.period written"
  else fail ".$d.period written" "$(cat "$sd/.$d.period" 2>&1)"; fi
done
h1=$(hist "$m/f")
[ "$h1" -lt "$h0" ] && ok "prune removed history ($h0 -> $h1 versions)" || fail "prune removed history" "$h0 -> $h1"
expect "live file intact" "$sum" "$(md5sum < "$m/f")"
recheck "first run"

# --- 2: the same day again: nothing is due; -F forces ---------------------
p0=$(cat "$sd/.prune.period")
out=$("$H" cleanup "$m" 2>&1); rc=$?
expect "second run exits 0" 0 "$rc"
expect "second run skips everything" "snapshots=skip prune=skip rebalance=skip reblock=skip recopy=skip" "$(states "$out")"
expect "period files unchanged by skips" "$p0" "$(cat "$sd/.prune.period")"
expect "no new snapshot when skipped" 1 "$(nrec "$m")"
echo more > "$m/g"; "$H" synctid "$m" > /dev/null
out=$("$H" -F -v cleanup "$m" 2>&1); rc=$?
expect "-F exits 0" 0 "$rc"
expect "-F runs everything" "snapshots=run prune=run rebalance=run reblock=run recopy=run" "$(states "$out")"
grep -qF "    hammer -c $sd/.reblock-3.cycle -t 300 reblock-data $m 95" <<<"$out" &&
  ok "-v: reblock-data at 95% with its cycle file and -t" || fail "-v reblock-data line" "$out"
grep -qF "    hammer -c $sd/.recopy-3.cycle -t 600 reblock-data $m" <<<"$out" &&
  ok "-v: recopy's reblock-data at 100%" || fail "-v recopy line" "$out"
grep -qF "    hammer -c $sd/.prune.cycle -t 300 prune $sd" <<<"$out" &&
  ok "-v: prune of the snapshots dir" || fail "-v prune line" "$out"
expect "-F took a second snapshot" 2 "$(nrec "$m")"
# a period counts whole days: yesterday 23:59 is due today, an hour ago is not
printf '0x%x\n' "$(date -d 'yesterday 23:59' +%s)" > "$sd/.rebalance.period"
printf '0x%x\n' "$(( $(date +%s) - 3600 ))" > "$sd/.reblock.period"
today=$(date +%H)
out=$("$H" cleanup "$m" 2>&1)
expect "1d: due once the day turned over" "rebalance=run" "$(states "$out" | grep -o 'rebalance=[a-z]*')"
if [ "$today" != 00 ]; then
  expect "1d: not due an hour later the same day" "reblock=skip" "$(states "$out" | grep -o 'reblock=[a-z]*')"
fi
recheck "periods"

# --- 3: expiry ------------------------------------------------------------
tid=$("$H" synctid "$m")
old_record "$m" 0 "$tid" "$(( $(date +%s) - 90 * 86400 ))" && ok "old record added" || fail "old record added"
ln -s "$m/@@$tid" "$sd/snap-20000101-0000"
ln -s "$m/@@$tid" "$sd/keep-20000101-0000"	# not snap-*: kept without "any"
n0=$(nrec "$m")
out=$("$H" -F -v cleanup "$m" 2>&1); rc=$?
expect "expiry run exits 0" 0 "$rc"
grep -qF "    expire $sd/snap-20000101-0000" <<<"$out" && ok "-v lists the expired link" || fail "expired link listed" "$out"
grep -qE "^    expire $tid .* old$" <<<"$out" && ok "-v lists the expired record" || fail "expired record listed" "$out"
[ ! -L "$sd/snap-20000101-0000" ] && ok "old snap- link removed" || fail "old snap- link removed"
[ -L "$sd/keep-20000101-0000" ] && ok "other link kept" || fail "other link kept"
"$H" snapls "$m" | grep -q "^$tid" && fail "old record removed" || ok "old record removed"
expect "young records kept, one more taken" "$n0" "$(nrec "$m")"
# "any": every link counts
printf 'snapshots 1d 60d any\nprune 1d 5m\n' > "$work/cfg"
"$H" config "$m" "$work/cfg"
"$H" -F cleanup "$m" > /dev/null 2>&1
[ ! -L "$sd/keep-20000101-0000" ] && ok "'any' expires other links" || fail "'any' expires other links"
recheck "expiry"

# --- 4: snapshots off -----------------------------------------------------
printf 'snapshots 0d 60d\nprune 1d 5m\n' > "$work/cfg"
"$H" config "$m" "$work/cfg"
out=$("$H" -F cleanup "$m" 2>&1)
expect "0d 60d with snapshots left: only expire" "snapshots=only prune=run" "$(states "$out")"
grep -q "prune - run - WARNING snapshot softlinks present but snapshots disabled" <<<"$out" &&
  ok "prune warns" || fail "prune warns" "$out"
printf 'snapshots 0d 0d\nprune 1d 5m\nrebalance 0d 5m\n' > "$work/cfg"
"$H" config "$m" "$work/cfg"
echo a > "$m/h"; echo b > "$m/h"; "$H" synctid "$m" > /dev/null
out=$("$H" -F -v cleanup "$m" 2>&1); rc=$?
expect "snapshots off exits 0" 0 "$rc"
expect "0d 0d: disabled, prune-everything" "snapshots=disabled prune=run rebalance=disabled" "$(states "$out")"
grep -qF "    hammer -c $sd/.prune.cycle -t 300 prune-everything $m" <<<"$out" &&
  ok "prune-everything runs" || fail "prune-everything runs" "$out"
expect "no snapshot records left" 0 "$(nrec "$m")"
expect "one version of f left" 1 "$(hist "$m/f")"
expect "live file intact" "$sum" "$(md5sum < "$m/f")"
recheck "snapshots off"

# --- 5: bad config and bad paths ------------------------------------------
cp "$sd/.prune.period" "$work/p.before"
for bad in 'snapshots 1x 60d' 'prune 5' 'prune -1d 5m' 'frobnicate 1d 5m'; do
  printf 'snapshots 1d 60d\n%s\n' "$bad" > "$work/cfg"
  "$H" config "$m" "$work/cfg"
  out=$("$H" -F cleanup "$m" 2>&1); rc=$?
  expect "bad config '$bad' exits 1" 1 "$rc"
  grep -q "config line 2" <<<"$out" && ok "'$bad': the message names the line" || fail "'$bad' message" "$out"
  grep -q "config - config error, nothing done" <<<"$out" && ok "'$bad': nothing done" || fail "'$bad' nothing done" "$out"
done
cmp -s "$work/p.before" "$sd/.prune.period" && ok "bad config ran nothing" || fail "bad config ran nothing"
expect "no snapshot taken by a bad config" 0 "$(nrec "$m")"
out=$("$H" cleanup "$work/nonexistent" 2>&1); rc=$?
expect "missing path exits 1" 1 "$rc"
grep -q "unable to access directory" <<<"$out" && ok "missing path message" || fail "missing path message" "$out"
out=$("$H" cleanup "$work" 2>&1); rc=$?
expect "non-HAMMER path exits 1" 1 "$rc"
grep -q " - not a HAMMER filesystem" <<<"$out" && ok "non-HAMMER message" || fail "non-HAMMER message" "$out"
expect "cleanup -x is a usage error" 1 "$("$H" cleanup -x > /dev/null 2>&1; echo $?)"
printf 'snapshots 1d 60d\nprune 1d 5m\nrebalance 1d 5m\nreblock 1d 5m\n' > "$work/cfg"
"$H" config "$m" "$work/cfg"

# --- 6: a master and a slave PFS ------------------------------------------
"$H" pfs-master "$m/pm" > /dev/null || fail "pfs-master"
su=$("$H" pfs-status "$m/pm" | sed -n 's/^ *shared-uuid=//p')
"$H" pfs-slave "$m/ps" shared-uuid="$su" > /dev/null || fail "pfs-slave"
for i in 1 2 3; do echo "v$i" > "$m/pm/a"; echo "$i" > "$m/pm/b$i"; "$H" synctid "$m/pm" > /dev/null; done
"$H" mirror-copy "$m/pm" "$m/ps" > /dev/null 2>&1 || fail "mirror-copy"
out=$("$H" cleanup "$m/pm" 2>&1); rc=$?
expect "master PFS exits 0" 0 "$rc"
grep -qF "handle PFS#1 using $work/var$m/pm" <<<"$out" && ok "master PFS: its own snapshots dir" || fail "master PFS header" "$out"
expect "master PFS: every directive runs" "snapshots=run prune=run rebalance=run reblock=run recopy=run" "$(states "$out")"
expect "master PFS: one record in PFS#1" 1 "$(nrec "$m/pm")"
l=$(find "$work/var$m/pm" -maxdepth 1 -type l -name 'snap-*' | head -1)
expect "master PFS: the snapshot reads its files" "v3" "$(cat "$l/a" 2>&1)"
"$H" mirror-copy "$m/pm" "$m/ps" > /dev/null 2>&1 || fail "mirror-copy after cleanup"
out=$("$H" cleanup "$m/ps" 2>&1); rc=$?
expect "slave PFS exits 0" 0 "$rc" || echo "$out"
grep -q "handle PFS#2 using .*(slave: default config, not stored)" <<<"$out" && ok "slave: defaults, not stored" || fail "slave header" "$out"
expect "slave: no snapshots, the rest runs" "snapshots=skip prune=run rebalance=run reblock=run recopy=run" "$(states "$out")"
diff -r "$m/pm" "$m/ps" > /dev/null 2>&1 && ok "slave equals the master after cleanup" || fail "slave equals the master"
recheck "PFS"

# --- 7: no arguments: every hammer-fuse mount, each PFS once ---------------
m2=$work/m2
mkdir -p "$m2"
mount --bind "$m" "$m2" 2>/dev/null && bound=1 || bound=0
if command -v unshare > /dev/null && unshare -m true 2>/dev/null; then
  # a private mount namespace without the mounts of anyone else's tests
  out=$(unshare -m --propagation private bash -c '
    awk -v w="$1/" '"'"'index($5, w) != 1 && $0 ~ / - fuse(blk)?\.hammer / {print $5}'"'"' /proc/self/mountinfo |
      while read -r mp; do umount -l "$mp" 2>/dev/null; done
    "$2" -F cleanup' _ "$work" "$H" 2>&1); rc=$?
  expect "no arguments exits 0" 0 "$rc" || echo "$out"
  grep -q "^cleanup $m  *- handle PFS#0" <<<"$out" && ok "no arguments: the mount" || fail "no arguments: the mount" "$out"
  if [ "$bound" = 1 ]; then
    grep -q "^cleanup $m2  *- PFS#0 already handled" <<<"$out" && ok "a bind mount of the same PFS: once" ||
      fail "bind mount handled once" "$out"
  fi
  [ "$(grep -c '^cleanup ' <<<"$out")" -ge 1 ] && ! grep -q "^cleanup /[^t]" <<<"$out" &&
    ok "no other mounts seen" || fail "no other mounts seen" "$out"
else
  echo "skip: no unshare -m (no-argument run not tested)"
fi
[ "$bound" = 1 ] && umount "$m2"

# --- 8: abort-cleanup -----------------------------------------------------
echo 999999 > "$work/run/hammer.cleanup.999999"	# stale: nobody holds it
( exec 9> "$work/run/hammer.cleanup.$BASHPID"; flock 9; exec sleep 300 ) &
holder=$!
for _ in $(seq 50); do [ -e "$work/run/hammer.cleanup.$holder" ] && break; sleep 0.1; done
sleep 0.2
out=$("$H" abort-cleanup 2>&1); rc=$?
expect "abort-cleanup exits 0" 0 "$rc"
expect "abort-cleanup terminates the running one" "Terminated cleanup process $holder" "$out"
wait "$holder" 2>/dev/null
kill -0 "$holder" 2>/dev/null && { fail "holder gone"; kill "$holder"; } || ok "holder gone"
expect "pid files removed" "" "$(ls "$work/run")"
"$H" cleanup "$m" > /dev/null 2>&1
expect "a finished cleanup leaves no pid file" "" "$(ls "$work/run")"

hf_umount "$m" || fail "final unmount"
check_image "$img" "checker clean at the end"
finish
