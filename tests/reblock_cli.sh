#!/bin/bash
# reblock_cli.sh: hammer reblock and its variants on a real hammer-fuse
# mount (cli/cmd_reblock.c, ref/reblock.c).  Groups: space comes back
# (files written, most deleted, their history pruned: reblock-data 90
# moves what is left and statfs shows the big-blocks free again, contents
# unchanged); online (a writer and a reader verify their files while a
# full reblock moves every node and record under them); each variant
# moves only its kind; a snapshot reads the same after a reblock; -t;
# bad input.  The checker is clean after each group.
set -uo pipefail
# shellcheck source=tests/fuse_lib.sh
. "$(dirname "$0")/fuse_lib.sh"

img=$work/img
m=$work/m
H=$HAMMER
mk_image "$img" 2G || exit 1
hf_mount "$img" "$m" || exit 1

recheck() {
  hf_umount "$m" || fail "$1: unmount"
  check_image "$img" "$1: checker clean"
  hf_mount "$img" "$m" || { fail "$1: remount"; finish; exit 1; }
}
free_kb() { df -k --output=avail "$m" | tail -1 | tr -d ' '; }
moved() { sed -n "s/^ *\([0-9]*\)\/\([0-9]*\) $1\$/\1/p" <<<"$2"; }
total() { sed -n "s/^ *\([0-9]*\)\/\([0-9]*\) $1\$/\2/p" <<<"$2"; }

# --- 1: space comes back ------------------------------------------------
mkdir "$m/d"
for i in $(seq 1 240); do head -c $((100000 + i * 300)) /dev/urandom > "$m/d/f$i"; done
"$H" synctid "$m" > /dev/null
for i in $(seq 1 240); do [ $((i % 10)) = 0 ] || rm "$m/d/f$i"; done
(cd "$m/d" && md5sum f*) > "$work/sums"
"$H" prune-everything "$m" > /dev/null || fail "prune-everything"
"$H" synctid "$m" > /dev/null; "$H" synctid "$m" > /dev/null
before=$(free_kb)
out=$("$H" reblock-data "$m" 90 2>&1); rc=$?
expect "reblock-data exits 0" 0 "$rc"
grep -q "^Reblock $m succeeded$" <<<"$out" && ok "reblock-data succeeded" || fail "reblock-data succeeded" "$out"
grep -q "^free level 838861$" <<<"$out" && ok "free level of 90%" || fail "free level of 90%" "$out"
n=$(moved "data elements" "$out")
[ "${n:-0}" -gt 0 ] && ok "data elements moved ($n)" || fail "data elements moved" "$out"
expect "no B-tree node moved by reblock-data" 0 "$(moved "btree nodes" "$out")"
"$H" synctid "$m" > /dev/null; "$H" synctid "$m" > /dev/null
after=$(free_kb)
[ "$after" -ge $((before + 16384)) ] && ok "free space back ($before -> $after KiB)" ||
  fail "free space back" "$before -> $after KiB"
(cd "$m/d" && md5sum -c --quiet "$work/sums") && ok "contents unchanged" || fail "contents unchanged"
recheck "space"

# --- 2: online: a writer and a reader during a full reblock -------------
T0=$("$H" synctid "$m")
mkdir "$m/live"
for i in $(seq 1 40); do head -c 50000 /dev/urandom > "$m/live/s$i"; done
(cd "$m/live" && md5sum s*) > "$work/live.sums"
"$H" snapshot "$m" "$work/snap" > /dev/null || fail "snapshot"
(cd "$work/snap/live" && md5sum s*) > "$work/snap.sums"
stop=$work/stop
( i=0; while [ ! -e "$stop" ]; do
    i=$((i + 1)); head -c 20000 /dev/urandom > "$work/w.src"
    cp "$work/w.src" "$m/live/w$((i % 7))" && cmp -s "$work/w.src" "$m/live/w$((i % 7))" ||
      { echo "writer $i: mismatch" >> "$work/errors"; }
    echo "$i" > "$work/writes"
  done ) &
wpid=$!
( r=0; while [ ! -e "$stop" ]; do
    r=$((r + 1)); (cd "$m/live" && md5sum -c --quiet "$work/live.sums" > /dev/null 2>&1) ||
      echo "reader $r: mismatch" >> "$work/errors"
    echo "$r" > "$work/reads"
  done ) &
rpid=$!
# full reblocks until the writer and the reader have run through several
# of them (counted, not timed): the first one's counts are checked below
out=$("$H" reblock "$m" 2>&1); rc=$?
runs=1 bad=0
count() { local v; v=$(cat "$1" 2>/dev/null); echo "${v:-0}"; }
while [ "$(count "$work/writes")" -lt 40 ] || [ "$(count "$work/reads")" -lt 10 ]; do
  [ "$runs" -ge 200 ] && break
  "$H" reblock "$m" > /dev/null 2>&1 || bad=$((bad + 1))
  runs=$((runs + 1))
done
touch "$stop"; wait "$wpid" "$rpid"
expect "reblock under load exits 0" 0 "$rc"
expect "every reblock under load succeeded ($runs runs)" 0 "$bad"
bn=$(moved "btree nodes" "$out"); bt=$(total "btree nodes" "$out")
[ "${bn:-0}" -gt 0 ] && [ "$bn" = "$bt" ] && ok "every B-tree node moved ($bn)" ||
  fail "every B-tree node moved" "$out"
dn=$(moved "data elements" "$out"); dt=$(total "data elements" "$out")
[ "${dn:-0}" -gt 0 ] && [ "$dn" = "$dt" ] && ok "every data element moved ($dn)" ||
  fail "every data element moved" "$out"
expect "no mismatch seen by the writer and the reader" "" "$(cat "$work/errors" 2>/dev/null)"
echo "  (writer: $(cat "$work/writes") files, reader: $(cat "$work/reads") passes)"
(cd "$m/live" && md5sum -c --quiet "$work/live.sums") && ok "files intact after reblock" ||
  fail "files intact after reblock"
(cd "$work/snap/live" && md5sum -c --quiet "$work/snap.sums") && ok "snapshot reads the same" ||
  fail "snapshot reads the same"
(cd "$m/d" && md5sum -c --quiet "$work/sums") && ok "older files intact" || fail "older files intact"
[ -n "$T0" ] && ok "synctid before" || fail "synctid before"
recheck "online"

# --- 3: the variants move their kind only ---------------------------------
for v in btree inodes dirs data; do
  out=$("$H" reblock-$v "$m" 2>&1); rc=$?
  expect "reblock-$v exits 0" 0 "$rc"
  nodes=$(moved "btree nodes" "$out"); data=$(moved "data elements" "$out")
  case $v in
    btree) [ "$nodes" -gt 0 ] && [ "$data" = 0 ] && ok "reblock-btree: nodes only" ||
             fail "reblock-btree: nodes only" "$out";;
    *) [ "$nodes" = 0 ] && [ "$data" -gt 0 ] && ok "reblock-$v: data only ($data)" ||
         fail "reblock-$v: data only" "$out";;
  esac
done
(cd "$m/live" && md5sum -c --quiet "$work/live.sums") && ok "files intact after the variants" ||
  fail "files intact after the variants"
recheck "variants"

# --- 3b: rebalance packs thinned leaves -----------------------------------
mkdir "$m/small"
for i in $(seq 1 2000); do : > "$m/small/e$i"; done
"$H" synctid "$m" > /dev/null
for i in $(seq 1 2000); do [ $((i % 10)) = 0 ] || rm "$m/small/e$i"; done
"$H" prune-everything "$m" > /dev/null
out=$("$H" rebalance "$m" 2>&1); rc=$?
expect "rebalance exits 0" 0 "$rc"
grep -q "^Rebalance $m succeeded$" <<<"$out" && ok "rebalance succeeded" || fail "rebalance succeeded" "$out"
del=$(sed -n 's/^ *\([0-9]*\) B-Tree nodes deleted$/\1/p' <<<"$out")
[ "${del:-0}" -gt 0 ] && ok "rebalance freed leaves ($del)" || fail "rebalance freed leaves" "$out"
expect "the 200 entries left are all there" 200 "$(ls "$m/small" | wc -l)"
out=$("$H" rebalance "$m" 100 2>&1)
expect "a second rebalance at 100% runs" 0 "$?"
out=$("$H" rebalance "$m" 40 2>&1); rc=$?
expect "saturation 40: exit 1" 1 "$rc"
grep -q "50%-100%" <<<"$out" && ok "saturation range named" || fail "saturation range named" "$out"
(cd "$m/live" && md5sum -c --quiet "$work/live.sums") && ok "files intact after rebalance" ||
  fail "files intact after rebalance"
recheck "rebalance"

# --- 3c: more data than the daemon's cache (64 MiB by default) ----------
head -c $((160 << 20)) /dev/urandom > "$m/huge"
md5sum "$m/huge" > "$work/huge.sum"
"$H" synctid "$m" > /dev/null
out=$("$H" reblock-data "$m" 2>&1); rc=$?
expect "reblock of 160 MiB on a 64 MiB cache exits 0" 0 "$rc"
n=$(moved "data bytes" "$out")
[ "${n:-0}" -ge $((160 << 20)) ] && ok "all of it moved ($n bytes)" || fail "all of it moved" "$out"
t=$("$H" synctid "$m") && ok "the mount still works after it ($t)" || fail "the mount still works after it"
md5sum -c --quiet "$work/huge.sum" && ok "160 MiB file intact" || fail "160 MiB file intact"
rm "$m/huge"
recheck "more than the cache"

# --- 4: -t ---------------------------------------------------------------
out=$("$H" -t 1 reblock "$m" 2>&1); rc=$?
expect "reblock -t exits 0" 0 "$rc"
grep -qE "^Reblock $m (succeeded|interrupted by timer( at .*)?)$" <<<"$out" && ok "reblock -t reports" ||
  fail "reblock -t reports" "$out"

# --- 4b: -c cycle files ---------------------------------------------------
cyc=$work/cycle
out=$("$H" -c "$cyc" reblock-btree "$m" 2>&1)
grep -q "succeeded" <<<"$out" && [ ! -e "$cyc" ] && ok "-c: a finished run leaves no cycle file" ||
  fail "-c: a finished run leaves no cycle file" "$out"
printf 'short' > "$cyc"
out=$("$H" -c "$cyc" reblock-btree "$m" 2>&1)
grep -q "cycle-file $cyc: clearing old version" <<<"$out" && [ ! -e "$cyc" ] &&
  ok "-c: a garbage cycle file is cleared, the run starts over" ||
  fail "-c: garbage cycle file" "$out"
full=$(moved "btree nodes" "$out")
# a key past every record of the PFS: that run finds nothing left to do
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<qqQQHBBIQ", 0x7fffffffffffffff, 0x7fffffffffffffff, 1, 0, 0xffff, 0, 0, 0xffff, 0))' > "$cyc"
out=$("$H" -c "$cyc" reblock-data "$m" 2>&1)
expect "-c: resuming at the last key moves nothing" 0 "$(total "data elements" "$out")"
[ ! -e "$cyc" ] && ok "-c: the file is removed at the end" || fail "-c: the file is removed at the end"
[ "${full:-0}" -gt 0 ] && ok "-c: the run after the cleared file moved nodes ($full)" ||
  fail "-c: the run after the cleared file moved nodes" "$out"
recheck "cycle files"

# --- 5: bad input --------------------------------------------------------
out=$("$H" reblock "$m" 150 2>&1); rc=$?
expect "fill 150: exit 1" 1 "$rc"
grep -q "fill percentage '150'" <<<"$out" && ok "fill 150 named" || fail "fill 150 named" "$out"
out=$("$H" reblock "$m" abc 2>&1); rc=$?
expect "fill abc: exit 1" 1 "$rc"
out=$("$H" reblock "$work/nonexistent" 2>&1); rc=$?
expect "missing file system: exit 1" 1 "$rc"
grep -q "No such file or directory" <<<"$out" && ok "missing path named" || fail "missing path named" "$out"
out=$("$H" reblock /tmp 2>&1); rc=$?
expect "not HAMMER: exit 1" 1 "$rc"
grep -qi "hammer-fuse\|not on a mounted HAMMER" <<<"$out" && ok "not HAMMER named" || fail "not HAMMER named" "$out"
out=$("$H" reblock 2>&1); rc=$?
expect "no argument: exit 1" 1 "$rc"
(cd "$m/live" && md5sum -c --quiet "$work/live.sums") && ok "files intact after bad input" ||
  fail "files intact after bad input"
hf_umount "$m" || fail "final unmount"
check_image "$img" "final checker clean"
finish
