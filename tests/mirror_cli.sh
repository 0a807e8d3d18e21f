#!/usr/bin/env bash
# mirror_cli.sh: the mirroring commands of `hammer` (cli/cmd_mirror.c) on two
# hammer-fuse mounts (suite fuse): mirror-copy to a missing slave (-y),
# incremental runs (deletions, a small stream), mirror-read / mirror-dump /
# mirror-write through a file, prescan chunks (-S), refusals (master target,
# other shared-uuid, truncated and corrupted streams: exit 1, the slave's
# sync_end_tid unchanged), mirror-stream in the background (a change picked
# up, a killed half reconnected, SIGTERM a clean exit 0), -c (DragonFly's
# 48-byte cycle file, byte for byte), -e (the 3-line scoreboard), -R/-T and
# ssh-remote, ssh halves when an OpenSSH server can be started
# (tests/lib_sshd.sh; a second key forced to ssh-remote), -f on unmounted images
# (the same stream as mounted, mirror-write creating a slave), and the
# checker clean on both images at the end.  Every failure prints the
# command.  Run alone: BUILD=build-x bash tests/mirror_cli.sh
: "${BUILD:?set BUILD to the meson build dir}"
BUILD=$(cd "$BUILD" && pwd)
# shellcheck source=tests/fuse_lib.sh
. "$(dirname "$0")/fuse_lib.sh"
LIBDIR=$(cd "$(dirname "$0")" && pwd)
cd "$work" || exit 1
export HAMMER_MIRROR_RETRY=1	# mirror-stream: retry a lost link after 1 s + -i

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
# runin NAME WANT PATTERN INPUT CMD...: the same with stdin from INPUT
runin() {
  local name=$1 want=$2 pat=$3 in=$4; shift 4
  "$@" <"$in" >out.txt 2>err.txt
  local st=$?
  if [ "$st" -ne "$want" ]; then
    fail "$name" "exit $st, want $want: $* < $in"; tail -n 15 out.txt err.txt; return 1
  fi
  if [ -n "$pat" ] && ! grep -Eq -- "$pat" out.txt err.txt; then
    fail "$name" "no line matching /$pat/: $* < $in"; tail -n 15 out.txt err.txt; return 1
  fi
  ok "$name"
}
# same_tree NAME A B: diff -r (links compared as links)
same_tree() {
  local d
  if d=$(diff -r --no-dereference "$2/" "$3/" 2>&1); then ok "$1"; else
    fail "$1" "diff -r --no-dereference $2/ $3/:"; echo "$d" | head -n 10
  fi
}
# field PATH KEY: a pfs-status field (sync-end-tid, shared-uuid, ...)
field() { "$HAMMER" pfs-status "$1" 2>/dev/null | sed -n "s/^    $2=//p"; }

mk_image "$work/a.img" 2G || exit 1
mk_image "$work/b.img" 2G || exit 1
hf_mount "$work/a.img" "$work/ma" -o flush=1 || exit 1
hf_mount "$work/b.img" "$work/mb" -o flush=1 || exit 1
M=$work/ma/pfs/test S=$work/mb/pfs/test
mkdir -p "$work/ma/pfs" "$work/mb/pfs"
run "pfs-master" 0 "succeeded" "$HAMMER" pfs-master "$M"

# ---- content: sizes, directories, symlinks, hard links, renames, deletes, truncates
mkdir -p "$M/d1/d2/d3" "$M/empty"
: >"$M/zero"
echo hello >"$M/small"
head -c 4095 /dev/urandom >"$M/d1/odd"
head -c 70000 /dev/urandom >"$M/d1/over64k"
head -c 3000000 /dev/urandom >"$M/d1/d2/big"
head -c 200000 /dev/urandom >"$M/d1/d2/d3/mid"
ln -s small "$M/link"
ln -s /nowhere "$M/dangling"
ln "$M/small" "$M/d1/hard"
echo gone >"$M/deleted"; rm "$M/deleted"
echo x >"$M/before"; mv "$M/before" "$M/d1/after"
head -c 100000 /dev/urandom >"$M/trunc"; truncate -s 5000 "$M/trunc"
for i in $(seq 1 50); do echo "file $i" >"$M/empty/../d1/f$i"; done
sync

# ---- first mirror-copy: the slave does not exist (-y creates it)
run "mirror-copy -y to a missing slave" 0 "Mirror-read .* succeeded" \
  "$HAMMER" -y mirror-copy "$M" "$S"
grep -q "PFS slave .* does not exist. Auto create new slave PFS!" err.txt &&
  ok "auto-create message" || { fail "auto-create message"; cat err.txt; }
grep -Eq "^histogram range [0-9a-f]{16} - [0-9a-f]{16}$" err.txt &&
  grep -Eq "^Mirror-read: Mirror from [0-9a-f]{16} to [0-9a-f]{16}$" err.txt &&
  ok "guide's output lines" || { fail "guide's output lines"; cat err.txt; }
same_tree "slave equals master" "$M" "$S"
expect "slave is a slave" "operating as a SLAVE" "$("$HAMMER" pfs-status "$S" | grep -o 'operating as a SLAVE')"
expect "shared-uuid carried over" "$(field "$M" shared-uuid)" "$(field "$S" shared-uuid)"
expect "slave sync_end_tid = master's" "$(field "$M" sync-end-tid)" "$(field "$S" sync-end-tid)"
expect "hard link kept" "$(stat -c %i "$S/small")" "$(stat -c %i "$S/d1/hard")"

# ---- incremental: changes, deletions; the stream is small
E=$(field "$S" sync-end-tid)
rm -r "$M/d1/d2/d3"
rm "$M/zero" "$M/d1/f7"
mv "$M/d1/f8" "$M/d1/f8-renamed"
echo more >>"$M/small"
truncate -s 10 "$M/d1/over64k"
echo new >"$M/newfile"
sync
run "mirror-read full" 0 "succeeded" "$HAMMER" -B mirror-read "$M"
full=$(stat -c %s out.txt)
run "mirror-read incremental" 0 "succeeded" "$HAMMER" -B mirror-read "$M" "$(printf '0x%x' $((E + 1)))"
inc=$(stat -c %s out.txt)
if [ "$inc" -gt 0 ] && [ $((inc * 20)) -lt "$full" ]; then ok "incremental stream small ($inc vs $full bytes)"
else fail "incremental stream small" "$inc bytes vs $full for the full stream"; fi
run "mirror-copy incremental" 0 "succeeded" "$HAMMER" mirror-copy "$M" "$S"
same_tree "incremental: slave equals master" "$M" "$S"
[ ! -e "$S/d1/d2/d3" ] && [ ! -e "$S/zero" ] && ok "deletions propagated" || fail "deletions propagated"
expect "incremental: sync_end_tid" "$(field "$M" sync-end-tid)" "$(field "$S" sync-end-tid)"
run "mirror-copy with nothing to do" 0 "succeeded" "$HAMMER" mirror-copy "$M" "$S"

# ---- mirror-read to a file, mirror-dump, mirror-write one-way
run "mirror-read > file" 0 "succeeded" "$HAMMER" -B mirror-read "$M"
cp out.txt stream.bin
runin "mirror-dump" 0 "^Record lo=[0-9a-f]{8} obj=[0-9a-f]{16} key=[0-9a-f]{16} rt=[0-9a-f]{2} ot=[0-9a-f]{2}" \
  stream.bin "$HAMMER" mirror-dump
grep -Eq "^       tids [0-9a-f]{16}:[0-9a-f]{16} data=[0-9]+$" out.txt && ok "mirror-dump tids lines" ||
  fail "mirror-dump tids lines"
runin "mirror-dump header" 0 "shared-uuid=$(field "$M" shared-uuid)" stream.bin "$HAMMER" mirror-dump header
runin "mirror-write one-way (-y)" 0 "^Source can update synctid to 0x[0-9a-f]{16}$" \
  stream.bin "$HAMMER" -y mirror-write "$work/mb/pfs/fromfile"
same_tree "mirror-write from a file" "$M" "$work/mb/pfs/fromfile"
runin "mirror-write without -y, no tty" 1 "No terminal for response" stream.bin \
  setsid "$HAMMER" mirror-write "$work/mb/pfs/notty"
[ ! -e "$work/mb/pfs/notty" ] && ok "no tty: nothing created" || fail "no tty: nothing created"

# ---- chunks (-S): every chunk its own batch with SYNC
for i in 1 2 3 4; do head -c 400000 /dev/urandom >"$M/chunk$i"; sync; sleep 1.2; done
run "mirror-read -S 300k" 0 "succeeded" "$HAMMER" -S 300k mirror-read "$M"
cp out.txt chunks.bin
n=$(grep -c "^Mirror-read: Mirror from" err.txt)
[ "$n" -ge 4 ] && ok "prescan chunks ($n batches)" || { fail "prescan chunks" "$n batches"; cat err.txt; }
runin "mirror-write chunks" 0 "" chunks.bin "$HAMMER" -y mirror-write "$work/mb/pfs/chunked"
expect "one sync per chunk" "$n" "$(grep -c '^Source can update synctid' out.txt)"
same_tree "chunked copy" "$M" "$work/mb/pfs/chunked"
# a chunked stream cut after its second batch: the slave stops at chunk 2
cut2=$(python3 - chunks.bin <<'EOF'
import struct, sys
b = open(sys.argv[1], 'rb').read(); off = 0; syncs = 0
while off < len(b):
    size, typ = struct.unpack_from('<II', b, off + 8)
    off += (size + 7) & ~7
    if typ & 0xff == 4:
        syncs += 1
        if syncs == 2:
            print(off + 100); break
EOF
)
head -c "$cut2" chunks.bin >cut.bin
runin "chunked stream cut after batch 2" 1 "short read" cut.bin "$HAMMER" -y mirror-write "$work/mb/pfs/partial"
second=$(sed -n 2p out.txt | sed 's/.* //')
expect "cut: slave at chunk 2's end" "$second" "$(field "$work/mb/pfs/partial" sync-end-tid)"
run "restart from a cut (mirror-copy: from the slave's sync_end_tid)" 0 "succeeded" \
  "$HAMMER" -S 300k mirror-copy "$M" "$work/mb/pfs/partial"
if grep -q "Mirror from 0000000000000001 " err.txt; then
  fail "restart resumes" "started from the beginning again"; else ok "restart resumes"; fi
same_tree "restarted copy complete" "$M" "$work/mb/pfs/partial"

# ---- refusals: exit 1, the target unchanged
SU=$(field "$M" shared-uuid)
run "a master with the same shared-uuid" 0 "" "$HAMMER" pfs-master "$work/mb/pfs/master2" "shared-uuid=$SU"
runin "master as target refused" 1 "mirror-write: target must be in slave mode" \
  stream.bin "$HAMMER" mirror-write "$work/mb/pfs/master2"
run "a slave of another shared-uuid" 0 "" "$HAMMER" pfs-slave "$work/mb/pfs/other"
runin "other shared-uuid refused" 1 "different shared-uuid's" \
  stream.bin "$HAMMER" mirror-write "$work/mb/pfs/other"
run "an empty slave" 0 "" "$HAMMER" pfs-slave "$work/mb/pfs/victim" "shared-uuid=$SU"
V0=$(field "$work/mb/pfs/victim" sync-end-tid)
size=$(stat -c %s stream.bin)
head -c $((size / 2)) stream.bin >trunc.bin
runin "truncated stream" 1 "short read" trunc.bin "$HAMMER" mirror-write "$work/mb/pfs/victim"
flip() {	# flip IN OUT OFFSET
  python3 -c "import sys; b=bytearray(open(sys.argv[1],'rb').read()); b[int(sys.argv[3])]^=0x10; open(sys.argv[2],'wb').write(b)" "$@"
}
flip stream.bin badpfsd.bin 40		# inside the first PFSD's body
flip stream.bin badhead.bin 328		# the second record's rec_crc
flip stream.bin baddata.bin $((size / 2))	# in the middle: some REC's data
for f in badpfsd badhead baddata; do
  runin "flipped byte: $f" 1 "malformed record on pipe, bad crc|bad signature|illegal" \
    $f.bin "$HAMMER" mirror-write "$work/mb/pfs/victim"
  grep -q "at byte" err.txt && ok "$f: offset named" || fail "$f: offset named"
done
# records out of key order (each one intact): the engine refuses, the
# daemon's message names the record
python3 - stream.bin swapped.bin <<'EOF2'
import struct, sys
b = open(sys.argv[1], 'rb').read(); off = 0; recs = []
while off < len(b):
    size, typ = struct.unpack_from('<II', b, off + 8)
    w = (size + 7) & ~7
    recs.append((typ & 0xff, b[off:off + w])); off += w
i = max(k for k in range(len(recs) - 1) if recs[k][0] == 1 and recs[k + 1][0] == 1)
recs[i], recs[i + 1] = recs[i + 1], recs[i]
open(sys.argv[2], 'wb').write(b''.join(r for _, r in recs))
EOF2
runin "records out of order refused" 1 "REC record #[0-9]+ at (byte|offset) [0-9]+" \
  swapped.bin "$HAMMER" mirror-write "$work/mb/pfs/victim"
expect "refusals: victim unchanged" "$V0" "$(field "$work/mb/pfs/victim" sync-end-tid)"
run "mirror-read-stream with -f refused" 1 "needs a mounted" \
  "$HAMMER" -f "$work/a.img" mirror-read-stream pfs/test

# ---- -c cycle file: DragonFly's layout, a base element (40 bytes) and a TID,
# little-endian; the expected bytes are built here field by field
le() {	# le BYTES VALUE: VALUE as BYTES little-endian bytes, od's spelling
  local v i out=""; v=$(printf "%0$(($1 * 2))x" "$2")
  for ((i = $1 * 2 - 2; i >= 0; i -= 2)); do out+=" ${v:i:2}"; done
  echo "${out# }"
}
# the first key: obj_id and key INT64_MIN, create_tid 1, delete_tid 0,
# rec_type 0, obj_type 0, btype 0, localization 0
KEY0="$(le 8 0x8000000000000000) $(le 8 0x8000000000000000) $(le 8 1) $(le 8 0) $(le 2 0) 00 00 $(le 4 0)"
bytes() { od -An -v -tx1 "$1" | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'; }
mkcycle() {	# mkcycle FILE "HEX BYTES": write a cycle file as DragonFly would
  local h; h=$(echo "$2" | sed 's/ /\\x/g'); printf "\\x$h" >"$1"
}
echo cyc >"$M/cyc1"; sync
rm -f "$work/cyc.bin"
run "mirror-copy -c writes the cycle file" 0 "^Cyclefile $work/cyc.bin updated to 0x[0-9a-f]{16}$" \
  "$HAMMER" -c "$work/cyc.bin" mirror-copy "$M" "$S"
CE=$(field "$S" sync-end-tid)
expect "cycle file: 48 bytes" 48 "$(stat -c %s "$work/cyc.bin")"
expect "cycle file: first key + the slave's sync_end_tid" "$KEY0 $(le 8 "$CE")" "$(bytes "$work/cyc.bin")"
grep -q "updated to $CE\$" err.txt && ok "cycle message names the TID" || fail "cycle message names the TID"
# a file as DragonFly's hammer writes it: our one-way -B run starts at its TID
mkcycle dfly.cyc "$KEY0 $(le 8 "$CE")"
run "mirror-read -B -c (DragonFly's file)" 0 "^Mirror-read: Mirror from ${CE#0x} to " \
  "$HAMMER" -B -c "$work/dfly.cyc" mirror-read "$M"
grep -q "^Warning: cycle file (-c option) cannot be fully updated unless you use mirror-copy$" err.txt &&
  ok "one-way cycle warning" || fail "one-way cycle warning"
expect "one-way: rewritten with the begin TID" "$KEY0 $(le 8 "$CE")" "$(bytes dfly.cyc)"
printf '%016x\n' 5 >old.cyc	# the old text format: shorter than a key
run "old-format cycle file cleared" 0 "^cycle-file $work/old.cyc: clearing old version$" \
  "$HAMMER" -B -c "$work/old.cyc" mirror-read "$M"
expect "old format replaced by 48 bytes" 48 "$(stat -c %s old.cyc)"
mkcycle short.cyc "$KEY0"
run "cycle file without its TID" 0 "^cycle-file $work/short.cyc: Warning, malformed$" \
  "$HAMMER" -B -c "$work/short.cyc" mirror-read "$M"
mkcycle mid.cyc "$(le 8 0x100) $(le 8 0) $(le 8 1) $(le 8 0) $(le 2 0x11) 00 00 $(le 4 0x10000) $(le 8 "$CE")"
run "cycle file inside a batch: restarts at the first key" 0 \
  "cycle file .* resumes at object 0000000000000100: not supported" \
  "$HAMMER" -B -c "$work/mid.cyc" mirror-read "$M"
grep -q "Mirror from ${CE#0x} " err.txt && ok "mid-batch file: its TID kept" || fail "mid-batch file: its TID kept"

# ---- -e scoreboard: line 1 (0,20), line 2 (20,78), line 3 (90,70)
run "mirror-read -B -e" 0 "succeeded" "$HAMMER" -B -e "$work/sb1" mirror-read "$M"
expect "-B: only line 1" "Running            |20" "$(head -c 19 sb1)|$(stat -c %s sb1)"
run "mirror-read -S 300k -e (prescan)" 0 "succeeded" "$HAMMER" -S 300k -e "$work/sb2" mirror-read "$M"
if python3 - sb2 <<'EOF3'
import re, sys
b = open(sys.argv[1], 'rb').read()
assert len(b) == 160, len(b)
assert b[:20] == b'Running'.ljust(19) + b'\n', b[:20]
# line 2: the last progress, 76 characters at most, a blank, the newline
assert re.fullmatch(rb'obj=[0-9a-f]{16} tids=[0-9a-f]{16}:[0-9a-f]{16} +[0-9]+ +\n', b[20:98]), b[20:98]
# line 3 was written at 90, the later line 2 took its first 8 bytes
assert re.fullmatch(rb'[0-9]+ chunks, total [0-9]+ MBytes +\n', b[98:160]), b[98:160]
EOF3
then ok "scoreboard layout"; else fail "scoreboard layout"; od -c sb2 | head; fi

# ---- -R / -T, and ssh-remote (as an authorized_keys command= runs it)
run "-R: other command refused" 1 "^hammer-remote: request does not match restricted command$" \
  "$HAMMER" -R mirror-read,mirror-write pfs-status "$M"
run "-R: a listed command runs" 0 "operating as a MASTER" "$HAMMER" -R mirror-write,pfs-status pfs-status "$M"
runin "-T: target outside the path" 1 "^hammer-remote: restricted target$" stream.bin \
  "$HAMMER" -T "$work/mb/pfs/r/" -y mirror-write "$work/mb/pfs/outside"
runin "-T: '..' refused" 1 "^hammer-remote: '..' not allowed$" stream.bin \
  "$HAMMER" -T "$work/mb/pfs/" -y mirror-write "$work/mb/pfs/../pfs/dotdot"
run "-T: mirror-read checked too" 1 "^hammer-remote: restricted target$" \
  "$HAMMER" -T /elsewhere/ -B mirror-read "$M"
[ ! -e "$work/mb/pfs/outside" ] && [ ! -e "$work/mb/pfs/dotdot" ] && ok "-T: nothing created" ||
  fail "-T: nothing created"
runin "ssh-remote: allowed request" 0 "^Source can update synctid" stream.bin \
  env SSH_ORIGINAL_COMMAND="/usr/bin/hammer -y mirror-write $work/mb/pfs/viaremote" \
  "$HAMMER" ssh-remote mirror-write,mirror-read "$work/mb/pfs/"
same_tree "ssh-remote: the copy (of stream.bin)" "$work/mb/pfs/fromfile" "$work/mb/pfs/viaremote"
run "ssh-remote: command not allowed" 1 "^hammer-remote: request does not match restricted command$" \
  env SSH_ORIGINAL_COMMAND="hammer pfs-destroy $work/mb/pfs/viaremote" \
  "$HAMMER" ssh-remote mirror-write,mirror-read "$work/mb/pfs/"
run "ssh-remote: target outside" 1 "^hammer-remote: restricted target$" \
  env SSH_ORIGINAL_COMMAND="hammer -B mirror-read $M" \
  "$HAMMER" ssh-remote mirror-write,mirror-read "$work/mb/pfs/"
run "ssh-remote: not hammer" 1 "^hammer: hammer-remote: Command not 'hammer'$" \
  env SSH_ORIGINAL_COMMAND="rm -rf /nonexistent" "$HAMMER" ssh-remote mirror-read /x/
run "ssh-remote: no SSH_ORIGINAL_COMMAND" 1 "^hammer: SSH_ORIGINAL_COMMAND env missing$" \
  env -u SSH_ORIGINAL_COMMAND "$HAMMER" ssh-remote mirror-read /x/
run "ssh-remote: usage" 1 "" env SSH_ORIGINAL_COMMAND=hammer "$HAMMER" ssh-remote mirror-read

# ---- mirror-stream in the background (with a scoreboard)
"$HAMMER" -i 1 -e "$work/stream.sb" mirror-stream "$M" "$S" >stream.out 2>stream.err &
SP=$!
# wait_for NAME FILE-TEST...: poll up to 60 s
wait_for() {
  local name=$1; shift
  for _ in $(seq 120); do
    if "$@"; then ok "$name"; return 0; fi
    sleep 0.5
  done
  fail "$name" "not after 60 s: $*"; tail -n 5 stream.err; return 1
}
echo streamed >"$M/streamed1"; sync
wait_for "mirror-stream picks up a change" test -e "$S/streamed1"
sb_waiting() { [ "$(head -c 20 "$work/stream.sb" 2>/dev/null)" = "Waiting            " ]; }
wait_for "mirror-stream scoreboard: Waiting" sb_waiting
SBI=$(stat -c %i "$work/stream.sb")
# a lost link: kill the target half, the stream comes back
kids=$(pgrep -P "$SP" | tr '\n' ' ')
[ -n "$kids" ] && kill $(echo "$kids" | awk '{print $NF}') 2>/dev/null
sleep 0.5
echo again >"$M/streamed2"; rm "$M/streamed1"; sync
wait_for "mirror-stream reconnects after a lost link" test -e "$S/streamed2"
wait_for "mirror-stream propagates a delete" test ! -e "$S/streamed1"
kill -TERM "$SP"
wait "$SP"; st=$?
expect "mirror-stream: SIGTERM exits 0" 0 "$st"
sleep 0.5
[ -z "$(pgrep -P "$SP" 2>/dev/null)" ] && ok "mirror-stream: halves gone" || fail "mirror-stream: halves gone"
same_tree "after mirror-stream" "$M" "$S"
expect "scoreboard rewritten in place" "$SBI" "$(stat -c %i "$work/stream.sb")"

# ---- over ssh (a throwaway sshd), when one can be started
# shellcheck source=tests/lib_sshd.sh
. "$LIBDIR/lib_sshd.sh"
if sshd_start --try "$BUILD/cli" "$BUILD/fuse"; then
  trap 'sshd_stop; cleanup' EXIT
  echo viassh >"$M/viassh"; sync
  run "mirror-copy to host:path over ssh" 0 "succeeded" \
    "$HAMMER" -y mirror-copy "$M" "$SSHD_HOST:$work/mb/pfs/remote"
  same_tree "ssh copy equals master" "$M" "$work/mb/pfs/remote"
  run "mirror-copy from host:path over ssh" 0 "" \
    "$HAMMER" -y mirror-copy "$SSHD_HOST:$M" "$work/mb/pfs/remote2"
  same_tree "ssh source copy equals master" "$M" "$work/mb/pfs/remote2"
  # a second key forced to `hammer ssh-remote` (authorized_keys command=)
  ssh-keygen -q -t ed25519 -N '' -C sshd-test-restricted -f "$SSHD_DIR/rkey" </dev/null
  echo "command=\"hammer ssh-remote mirror-write,mirror-read $work/mb/pfs/\",no-pty $(cat "$SSHD_DIR/rkey.pub")" \
    >>"$SSHD_DIR/authorized_keys"
  sed "s|IdentityFile .*|IdentityFile $SSHD_DIR/rkey|" "$SSH_CONFIG" >"$SSHD_DIR/rconfig"
  HAMMER_RSH="ssh -F $SSHD_DIR/rconfig" run "restricted key: mirror-copy into the path" 0 "succeeded" \
    "$HAMMER" -y mirror-copy "$M" "$SSHD_HOST:$work/mb/pfs/rssh"
  same_tree "restricted key: the copy" "$M" "$work/mb/pfs/rssh"
  HAMMER_RSH="ssh -F $SSHD_DIR/rconfig" run "restricted key: target outside refused" 1 \
    "hammer-remote: restricted target" "$HAMMER" -y mirror-copy "$M" "$SSHD_HOST:$work/ma/pfs/evil"
  [ ! -e "$work/ma/pfs/evil" ] && ok "restricted key: nothing created" || fail "restricted key: nothing created"
  run "restricted key: other command refused" 1 "request does not match restricted command" \
    ssh -F "$SSHD_DIR/rconfig" "$SSHD_HOST" hammer pfs-status "$M"
  sshd_stop
else
  echo "(ssh part skipped)"
fi

# ---- -f: the same stream from the unmounted image
"$HAMMER" -B mirror-read "$M" >mounted.bin 2>/dev/null
# an unmount during a (slow) mirror-read: the daemon ends the stream and exits
"$HAMMER" -b 100k -B mirror-read "$M" >/dev/null 2>slow.err &
RP=$!
sleep 1
hf_umount "$work/ma" && ok "umount during a mirror-read" || fail "umount during a mirror-read"
wait "$RP"; st=$?
[ "$st" -ne 0 ] && ok "cut mirror-read fails (exit $st)" || fail "cut mirror-read fails" "exit 0"
grep -q "Mirror-read .* failed" slow.err && ok "cut mirror-read says why" ||
  { fail "cut mirror-read says why"; cat slow.err; }
hf_umount "$work/mb" || fail "umount b"
run "-f mirror-read" 0 "succeeded" "$HAMMER" -f "$work/a.img" -B mirror-read pfs/test
cp out.txt offline.bin
"$HAMMER" mirror-dump <mounted.bin >mounted.dump 2>&1
"$HAMMER" mirror-dump <offline.bin >offline.dump 2>&1
if cmp -s mounted.dump offline.dump; then ok "-f stream = mounted stream"; else
  fail "-f stream = mounted stream"; diff mounted.dump offline.dump | head; fi
runin "-f mirror-write (-y creates the slave)" 0 "Source can update synctid" offline.bin \
  "$HAMMER" -f "$work/b.img" -y mirror-write pfs/offline
run "-f pfs-status of the new slave" 0 "operating as a SLAVE" "$HAMMER" -f "$work/b.img" pfs-status pfs/offline
check_image "$work/a.img" "checker clean: master image"
check_image "$work/b.img" "checker clean: slave image"
hf_mount "$work/b.img" "$work/mb" || exit 1
hf_mount "$work/a.img" "$work/ma" || exit 1
same_tree "-f mirror-write result" "$M" "$work/mb/pfs/offline"
hf_umount "$work/ma"; hf_umount "$work/mb"
finish
