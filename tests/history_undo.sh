#!/usr/bin/env bash
# history_undo.sh: `hammer history[@offset[,len]]` (cli/cmd_history.c) and
# undo(1) (cli/undo.c) on a hammer-fuse mount.  A file with 20 versions
# (write, `hammer synctid`, repeat): history lists one TID per version, in
# order, each inside its synctid interval, with sane times; every
# file@@0x<tid> reads what was written then.  history@offset keeps the TIDs
# of the data covering that offset (-v shows its bytes), a directory has a
# history, a file with unflushed changes is "dirty".  undo -i lists the
# versions, -a -u extracts each to FILE.undo.NNNN equal to what was
# written, -t TID / -t index, -o (also as a template), -d / -D / two -t
# diffs.  The same on as-of paths, inside a snapshot tree (MNT/@@0x<tid>
# and a link to it) and inside a master PFS.  Bad input (not on HAMMER, no
# such file, bad TID, unknown option, bad offset): a message, exit 1.  The
# checker is clean on the image after unmount.
# Run alone: BUILD=build-x bash tests/history_undo.sh
: "${BUILD:?set BUILD to the meson build dir}"
BUILD=$(cd "$BUILD" && pwd)
# shellcheck source=tests/fuse_lib.sh
. "$(dirname "$0")/fuse_lib.sh"
UNDO=$BUILD/cli/undo
[ -x "$UNDO" ] || { echo "FAIL: $UNDO not built"; exit 1; }
cd "$work" || exit 1
export TZ=UTC

# run NAME WANT_STATUS PATTERN CMD...: exit status and a line of stdout+stderr
# matching PATTERN (ERE; empty: any).  Output kept in out.txt / err.txt.
run() {
  local name=$1 want=$2 pat=$3; shift 3
  "$@" </dev/null >out.txt 2>err.txt
  local st=$?
  if [ "$st" -ne "$want" ]; then
    fail "$name" "exit $st, want $want: $*"; tail -n 15 out.txt err.txt; return 1
  fi
  if [ -n "$pat" ] && ! grep -Eq -- "$pat" out.txt err.txt; then
    fail "$name" "no line matching /$pat/: $*"; tail -n 15 out.txt err.txt; return 1
  fi
  ok "$name"
}
# TIDs of a `hammer history` listing (stdin), one per line, as 0x...
tids_of() { awk 'NR > 1 && $1 != "}" { print "0x" $1 }'; }
# the seconds of a history time stamp "05-Dec-2026 17:12:35" (UTC)
secs_of() { date -u -d "$(tr '-' ' ' <<<"$1")" +%s; }

img=$work/h.img
M=$work/mnt
mk_image "$img" 1G || exit 1
hf_mount "$img" "$M" || exit 1
mkdir "$M/d"

# ---- 20 versions, each synced: version i = a header line and seq 1..i
N=20
start=$(date +%s)
declare -a T
T[0]=0x0000000000000000
for i in $(seq 1 $N); do
  { echo "version $i"; seq 1 "$i"; } > "exp.$i"
  cp "exp.$i" "$M/d/f"
  T[$i]=$("$HAMMER" synctid "$M") || fail "synctid $i"
done
end=$(date +%s)

"$HAMMER" history "$M/d/f" >hist.txt 2>err.txt
expect "history exit status" 0 $?
expect "history header" "$M/d/f	$(printf '%016x' "$(stat -c %i "$M/d/f")") clean {" "$(head -1 hist.txt)"
expect "history footer" "}" "$(tail -1 hist.txt)"
mapfile -t H < <(tids_of <hist.txt)
expect "one TID per version" $N "${#H[@]}"
order=ok; inside=ok; content=ok; times=ok
for i in $(seq 1 $N); do
  h=${H[$((i-1))]}
  [ -n "$h" ] || { order=missing; break; }
  (( i == 1 )) || (( h > ${H[$((i-2))]} )) || order="not ascending at $i"
  (( h > T[i-1] && h <= T[i] )) || inside="version $i: $h not in (${T[$((i-1))]}, ${T[$i]}]"
  cmp -s "exp.$i" "$M/d/f@@$h" || content="version $i differs at $h"
  ts=$(awk -v n=$((i+1)) 'NR == n { print $2 " " $3 }' hist.txt)
  s=$(secs_of "$ts")
  (( s >= start - 1 && s <= end + 1 )) || times="version $i: '$ts' outside the run"
done
expect "TIDs ascending" ok "$order"
expect "each TID inside its synctid interval" ok "$inside"
expect "file@@0x<tid> reads each version" ok "$content"
expect "times within the run" ok "$times"
expect "history line format" yes \
  "$(sed -n 2p hist.txt | grep -Eq '^    [0-9a-f]{16} [0-9]{2}-[A-Z][a-z]{2}-[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}$' && echo yes)"

# ---- history@offset[,len]: the DATA records covering one offset
# 32 x 16 KiB buffers ('a'); then the 64 KiB at 128 KiB become 'b'
head -c 524288 /dev/zero | tr '\0' a > "$M/d/big"
A=$("$HAMMER" synctid "$M")
head -c 65536 /dev/zero | tr '\0' b | dd of="$M/d/big" bs=65536 seek=2 conv=notrunc status=none
B=$("$HAMMER" synctid "$M")
hl() { "$HAMMER" "$@" 2>&1 | tids_of | tr '\n' ' ' | sed 's/ $//'; }
ga=$(hl history@0 "$M/d/big")
gb=$(hl history@131072 "$M/d/big")
gc=$(hl history@196608 "$M/d/big")
expect "history@0: one version" 1 "$(wc -w <<<"$ga")"
expect "history@0 within the first sync" yes "$( (( ga > T[N] && ga <= A )) && echo yes)"
expect "history@131072: written, then overwritten" 2 "$(wc -w <<<"$gb")"
read -r gb1 gb2 <<<"$gb"
expect "history@131072: the first version is offset 0's" "$ga" "$gb1"
expect "history@131072: the second inside the second sync" yes "$( (( gb2 > A && gb2 <= B )) && echo yes)"
expect "history@196608: untouched" "$ga" "$gc"
expect "history@0x20000 (hex offset)" "$gb" "$(hl history@0x20000 "$M/d/big")"
expect "per-path offset (path@offset)" "$gb" "$(hl history "$M/d/big@131072")"
"$HAMMER" -v history@131076,6 "$M/d/big" >out.txt 2>&1
expect "-v: the bytes at the offset as of each TID" "'aaaaaa' 'bbbbbb'" \
  "$(awk 'NR > 1 && $1 != "}" { print $4 }' out.txt | tr '\n' ' ' | sed 's/ $//')"
expect "history (inode) of big" 2 "$(hl history "$M/d/big" | wc -w)"

# ---- a directory's history
"$HAMMER" history "$M/d" >out.txt 2>&1
expect "directory history header" "$M/d	$(printf '%016x' "$(stat -c %i "$M/d")") clean {" "$(head -1 out.txt)"
dh=$(tids_of <out.txt | wc -l)
expect "directory history: created, then entries added" yes "$( (( dh >= 2 )) && echo yes)"
expect "directory history ascending" "$(tids_of <out.txt)" "$(tids_of <out.txt | sort)"
expect "directory history@offset refused" "$M/d	Invalid argument" "$("$HAMMER" history@0 "$M/d" 2>/dev/null | head -1)"

# ---- several paths; unflushed changes make "dirty"
echo "another" > "$M/d/g"
"$HAMMER" synctid "$M" >/dev/null
echo "another, second" > "$M/d/g"
"$HAMMER" synctid "$M" >/dev/null
run "history of two files" 0 "" "$HAMMER" history "$M/d/f" "$M/d/g"
expect "two headers, two footers" "2 2" "$(grep -c ' clean {$' out.txt) $(grep -c '^}$' out.txt)"
echo "more" >> "$M/d/g"
expect "unflushed change: dirty" "dirty {" "$("$HAMMER" history "$M/d/g" | head -1 | cut -f2 | cut -d' ' -f2-)"
"$HAMMER" synctid "$M" >/dev/null
echo "fresh" > "$M/d/fresh"
"$HAMMER" history "$M/d/fresh" >out.txt 2>&1
expect "a file never flushed: no versions, dirty" "$M/d/fresh	$(printf '%016x' "$(stat -c %i "$M/d/fresh")") dirty {|}" \
  "$(tr '\n' '|' <out.txt | sed 's/|$//')"
expect "synced again: clean" "clean {" "$("$HAMMER" history "$M/d/g" | head -1 | cut -f2 | cut -d' ' -f2-)"

# ---- undo -i: the list of versions
"$UNDO" -i "$M/d/f" >out.txt 2>err.txt
expect "undo -i exit status" 0 $?
expect "undo -i title" "$M/d/f: ITERATE ENTIRE HISTORY" "$(head -1 out.txt)"
expect "undo -i: the history's TIDs" "${H[*]}" "$(awk 'NR > 1 { print $1 }' out.txt | tr '\n' ' ' | sed 's/ $//')"
expect "undo -i: no inode change, nothing deleted" 0 "$(grep -cE 'inode-change|file-deleted' out.txt)"
expect "undo -i line format" yes \
  "$(sed -n 2p out.txt | grep -Eq "^	${H[0]} [0-9]{2}-[A-Z][a-z]{2}-[0-9]{4} [0-9:]{8}$" && echo yes)"

# ---- undo -a -u: every version into f.undo.NNNN
run "undo -a -u" 0 "ITERATE ENTIRE HISTORY" "$UNDO" -a -u "$M/d/f"
allok=ok
for i in $(seq 1 $N); do
  cmp -s "exp.$i" "$M/d/f.undo.$(printf %04d "$i")" || allok="version $i"
done
expect "undo -a -u: each version as written" ok "$allok"
expect "undo -a -u: one file per version" $N "$(ls "$M/d" | grep -c '^f\.undo\.')"
rm -f "$M/d"/f.undo.*
run "undo -a to stdout" 0 "" "$UNDO" -a "$M/d/f"
expect "undo -a: a >>> header per version" $N "$(grep -c '^>>> ' out.txt)"
expect "undo -a: first header" ">>> $M/d/f 0001 ${H[0]}" "$(grep -m1 '^>>> ' out.txt | cut -d' ' -f1-4)"
run "undo -a -o: OUT.NNNN per version" 0 "" "$UNDO" -a -o "$work/all" "$M/d/f"
expect "undo -a -o: version 7" ok "$(cmp "exp.7" "$work/all.0007" && echo ok)"

# ---- one version: default, -t TID, -t index, -o
run "undo (the version before the latest)" 0 "" "$UNDO" "$M/d/f"
expect "undo: header" ">>> $M/d/f 0000 ${H[N-2]}" "$(sed -n 2p out.txt | cut -d' ' -f1-4)"
expect "undo: the previous version" "$(cat "exp.$((N-1))")" "$(tail -n +4 out.txt)"
run "undo -t TID -o" 0 "" "$UNDO" -t "${H[4]}" -o "$work/v5" "$M/d/f"
expect "undo -t TID: version 5" ok "$(cmp exp.5 "$work/v5" && echo ok)"
run "undo -t index -o" 0 "" "$UNDO" -t 3 -o "$work/i3" "$M/d/f"
expect "undo -t 3: three versions back" ok "$(cmp "exp.$((N-3))" "$work/i3" && echo ok)"
run "undo -t 0: the latest version" 0 "" "$UNDO" -t 0 -o "$work/i0" "$M/d/f"
expect "undo -t 0" ok "$(cmp "exp.$N" "$work/i0" && echo ok)"
run "undo -u: f.undo.0000" 0 "" "$UNDO" -u -t "${H[1]}" "$M/d/f"
expect "undo -u: version 2" ok "$(cmp exp.2 "$M/d/f.undo.0000" && echo ok)"
rm -f "$M/d/f.undo.0000"
run "undo -o template, two files" 0 "" "$UNDO" -o "$work/%s.old" "$M/d/f" "$M/d/g"
expect "template: f" ok "$(cmp "exp.$((N-1))" "$work/f.old" && echo ok)"
expect "template: g" "another, second" "$(cat "$work/g.old")"

# ---- diffs
run "undo -d" 0 "" "$UNDO" -d "$M/d/f"
expect "undo -d header" "diff -N -r -u $M/d/f@@${H[N-2]} $M/d/f@@${H[N-1]} (to" \
  "$(head -1 out.txt | cut -d' ' -f1-7)"
expect "undo -d: the line added last" "+$N" "$(grep -E '^[+-][0-9]' out.txt)"
run "undo -D" 0 "" "$UNDO" -D "$M/d/f"
expect "undo -D header" "diff -N -r -u $M/d/f@@${H[N-1]} $M/d/f@@${H[N-2]}" "$(head -1 out.txt)"
expect "undo -D: reversed" "-$N" "$(grep -E '^[+-][0-9]' out.txt)"
run "undo -d -t TID (against the live file)" 0 "" "$UNDO" -d -t "${H[16]}" "$M/d/f"
expect "undo -d -t: header" "diff -N -r -u $M/d/f@@${H[16]} $M/d/f (to" "$(head -1 out.txt | cut -d' ' -f1-7)"
expect "undo -d -t: lines 18..20 added" "+18 +19 +20" "$(grep -E '^[+-][0-9]' out.txt | tr '\n' ' ' | sed 's/ $//')"
run "undo -t -t (implies -d)" 0 "" "$UNDO" -t "${H[2]}" -t "${H[4]}" "$M/d/f"
expect "two -t: header" "diff -N -r -u $M/d/f@@${H[2]} $M/d/f@@${H[4]} (to" "$(head -1 out.txt | cut -d' ' -f1-7)"
expect "two -t: lines 4, 5 added" "+4 +5" "$(grep -E '^[+-][0-9]' out.txt | tr '\n' ' ' | sed 's/ $//')"
run "undo -D -t 1 -t 0 (indexes)" 0 "" "$UNDO" -D -t 1 -t 0 "$M/d/f"
expect "-D with indexes: header" "diff -N -r -u $M/d/f@@${H[N-1]} $M/d/f@@${H[N-2]}" "$(head -1 out.txt)"
run "undo -d -o: the diff into a file" 0 "" "$UNDO" -d -o "$work/d.out" "$M/d/f"
expect "undo -d -o: the diff" "+$N" "$(grep -E '^[+-][0-9]' "$work/d.out")"
run "undo -a -d: one diff per pair" 0 "" "$UNDO" -a -d "$M/d/f"
expect "undo -a -d: N-1 diffs" $((N-1)) "$(grep -c '^diff -N -r -u ' out.txt)"

# ---- a file replaced by rename: undo finds the old inode through the directory
echo "old inode" > "$M/d/r"
"$HAMMER" synctid "$M" >/dev/null
echo "new inode" > "$M/d/r.tmp"; mv "$M/d/r.tmp" "$M/d/r"
"$HAMMER" synctid "$M" >/dev/null
run "undo -i across a rename" 0 "" "$UNDO" -i "$M/d/r"
expect "undo -i: the new inode's version marked" "-|inode-change" \
  "$(awk 'NR > 1 { print ($4 == "" ? "-" : $4) }' out.txt | tr '\n' '|' | sed 's/|$//')"
run "undo: the replaced inode's content" 0 "" "$UNDO" -o "$work/r.old" "$M/d/r"
expect "undo after rename: the old inode" "old inode" "$(cat "$work/r.old")"

# ---- a deleted file: its versions through the directory's history
echo "doomed 1" > "$M/d/z"; "$HAMMER" synctid "$M" >/dev/null
echo "doomed 2" > "$M/d/z"; "$HAMMER" synctid "$M" >/dev/null
rm "$M/d/z"; "$HAMMER" synctid "$M" >/dev/null
run "undo -i of a deleted file" 0 "ITERATE ENTIRE HISTORY" "$UNDO" -i "$M/d/z"
expect "deleted file: its two versions (the deletion: no line, as DragonFly)" 2 "$(($(wc -l <out.txt) - 1))"
run "undo -i -v: the deletion named" 0 "unable to access either $M/d/z@@0x[0-9a-f]{16} or $M/d/z" "$UNDO" -i -v "$M/d/z"
# deleted, then created again: the gap is "file-deleted"
echo "reborn" > "$M/d/z"; "$HAMMER" synctid "$M" >/dev/null
run "undo -i of a file deleted and created again" 0 "" "$UNDO" -i "$M/d/z"
expect "the deletion between: file-deleted, then inode-change" "-|-|file-deleted|inode-change" \
  "$(awk 'NR > 1 { print ($4 == "" ? "-" : $4) ($5 == "" ? "" : " " $5) }' out.txt | tr '\n' '|' | sed 's/|$//')"
run "undo of a deleted file: its last version" 0 "" "$UNDO" -t 2 -o "$work/z.old" "$M/d/z"
expect "deleted file recovered" "doomed 2" "$(cat "$work/z.old")"

# ---- as-of paths and snapshot trees
T10=${T[10]}
expect "history of an as-of path: the whole history" "$(tids_of <hist.txt)" \
  "$("$HAMMER" history "$M/d/f@@$T10" | tids_of)"
expect "history of a snapshot path" "$(tids_of <hist.txt)" "$("$HAMMER" history "$M/@@$T10/d/f" | tids_of)"
run "undo -t on an as-of path" 0 "" "$UNDO" -t "${H[3]}" -o "$work/a4" "$M/d/f@@$T10"
expect "undo on as-of path: version 4" ok "$(cmp exp.4 "$work/a4" && echo ok)"
run "undo -d on an as-of path (against that version)" 0 "" "$UNDO" -d -t "${H[7]}" "$M/d/f@@$T10"
expect "undo -d as-of: lines 9, 10 added" "+9 +10" "$(grep -E '^[+-][0-9]' out.txt | tr '\n' ' ' | sed 's/ $//')"
run "undo -i in a snapshot tree" 0 "" "$UNDO" -i "$M/@@$T10/d/f"
expect "undo -i in a snapshot tree: the versions" "${H[*]}" "$(awk 'NR > 1 { print $1 }' out.txt | tr '\n' ' ' | sed 's/ $//')"
run "undo -t in a snapshot tree" 0 "" "$UNDO" -t "${H[5]}" -o "$work/s6" "$M/@@$T10/d/f"
expect "undo in a snapshot tree: version 6" ok "$(cmp exp.6 "$work/s6" && echo ok)"
mkdir "$M/snaps"
ln -s "$M/@@$T10" "$M/snaps/snap-10"
expect "history through a snapshot link" "$(tids_of <hist.txt)" "$("$HAMMER" history "$M/snaps/snap-10/d/f" | tids_of)"
run "undo through a snapshot link" 0 "" "$UNDO" -t "${H[8]}" -o "$work/l9" "$M/snaps/snap-10/d/f"
expect "undo through a snapshot link: version 9" ok "$(cmp exp.9 "$work/l9" && echo ok)"

# ---- inside a master PFS
mkdir -p "$M/pfs"
run "pfs-master" 0 "" "$HAMMER" pfs-master "$M/pfs/p"
declare -a P
for i in 1 2 3; do
  echo "pfs version $i" > "$M/pfs/p/x"
  P[$i]=$("$HAMMER" synctid "$M/pfs/p")
done
"$HAMMER" history "$M/pfs/p/x" >out.txt 2>&1
expect "PFS: history header" "$M/pfs/p/x	$(printf '%016x' $(( $(stat -c %i "$M/pfs/p/x") & 0xffffffffffff ))) clean {" "$(head -1 out.txt)"
mapfile -t PH < <(tids_of <out.txt)
expect "PFS: three versions" 3 "${#PH[@]}"
expect "PFS: each in its interval" yes "$( (( PH[0] <= P[1] && PH[1] > P[1] && PH[1] <= P[2] && PH[2] > P[2] && PH[2] <= P[3] )) && echo yes)"
run "PFS: undo -a -u" 0 "ITERATE ENTIRE HISTORY" "$UNDO" -a -u "$M/pfs/p/x"
expect "PFS: undo versions" "pfs version 1|pfs version 2|pfs version 3" \
  "$(cat "$M/pfs/p/x.undo.0001" "$M/pfs/p/x.undo.0002" "$M/pfs/p/x.undo.0003" | tr '\n' '|' | sed 's/|$//')"
run "PFS: undo -i" 0 "" "$UNDO" -i "$M/pfs/p/x"
expect "PFS: undo -i versions" "${PH[*]}" "$(awk 'NR > 1 { print $1 }' out.txt | tr '\n' ' ' | sed 's/ $//')"

# ---- bad input
run "history: not on HAMMER" 1 "not on a mounted HAMMER file system" "$HAMMER" history /proc/self/status
expect "history: not on HAMMER, DragonFly's line" "/proc/self/status	Inappropriate ioctl for device" "$(cat out.txt)"
run "history: no such file" 1 "" "$HAMMER" history "$M/d/nope"
expect "history: no such file, DragonFly's line" "$M/d/nope	No such file or directory" "$(cat out.txt)"
run "history: one bad path of two" 1 " clean \{" "$HAMMER" history "$M/d/nope" "$M/d/f"
run "history: bad offset" 1 "history@x: bad offset" "$HAMMER" history@x "$M/d/f"
run "history: bad length" 1 "bad offset or length" "$HAMMER" history@0,zz "$M/d/f"
run "history: no path" 1 "usage: hammer history" "$HAMMER" history
run "history: -f refused" 1 "usage: hammer history" "$HAMMER" -f "$img" history "$M/d/f"
run "undo: not on HAMMER" 1 "not on a mounted HAMMER file system" "$UNDO" /proc/self/status
run "undo -i: not on HAMMER" 1 "ITERATE ENTIRE HISTORY: Inappropriate ioctl" "$UNDO" -i /proc/self/status
run "undo: no such file" 1 "No UNDO history found" "$UNDO" "$M/d/nope"
run "undo -a: no such file" 1 "ITERATE ENTIRE HISTORY: No such file" "$UNDO" -a "$M/d/nope"
run "undo: malformed TID" 1 "-t 0xZZ: not a transaction id" "$UNDO" -t 0xZZ "$M/d/f"
run "undo: TID too long" 1 "not a transaction id" "$UNDO" -t 0x00000000000000001 "$M/d/f"
run "undo: TID that is a word" 1 "not a transaction id" "$UNDO" -t yesterday "$M/d/f"
run "undo: index past the history" 1 "the history has $N versions" "$UNDO" -t 99 "$M/d/f"
run "undo: TID before the file existed" 1 "No such file or directory" "$UNDO" -t 0x0000000000000005 -o "$work/none" "$M/d/f"
run "undo: three -t" 1 "at most two -t" "$UNDO" -t 1 -t 2 -t 3 "$M/d/f"
run "undo: unknown option" 1 "usage: undo" "$UNDO" -Q "$M/d/f"
run "undo: no path" 1 "usage: undo" "$UNDO"
run "undo: -o with -u" 1 "may not be combined" "$UNDO" -o x -u "$M/d/f"
run "undo: -i with -d" 1 "usage: undo" "$UNDO" -d -i "$M/d/f"
run "undo: malformed template" 1 "Malformed output template" "$UNDO" -o "$work/%d" "$M/d/f" "$M/d/g"
run "undo: unwritable output" 1 "undo: /proc/nonexistent/x" "$UNDO" -o /proc/nonexistent/x "$M/d/f"

hf_umount "$M" || fail "unmount"
check_image "$img" "checker clean after unmount"
finish
