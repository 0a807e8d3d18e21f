#!/usr/bin/env bash
# newfs_cli.sh: newfs_hammer as a program: option parsing, refusals (exit
# status and message), the summary, warnings on stderr, multi-volume, and
# reproducible output with --fsid/--time-us/SOURCE_DATE_EPOCH.
# Run alone: BUILD=build-x bash tests/newfs_cli.sh
set -uo pipefail
: "${BUILD:?set BUILD to the meson build dir}"
NEWFS=$BUILD/cli/newfs_hammer
[ -x "$NEWFS" ] || { echo "FAIL: $NEWFS not built"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/newfs_cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fails=0
FSID=a381fb52-b407-dc4f-b4be-5c83274d03cb

# run NAME WANT_STATUS STDERR_NEEDLE -- ARGS: check exit status and stderr
run() {
  local name=$1 want=$2 needle=$3; shift 4
  "$NEWFS" "$@" >out.txt 2>err.txt
  local st=$?
  if [ "$st" -ne "$want" ]; then
    echo "FAIL [$name]: exit $st, want $want: newfs_hammer $*"; cat err.txt; fails=$((fails+1)); return
  fi
  if [ -n "$needle" ] && ! grep -qF -- "$needle" err.txt; then
    echo "FAIL [$name]: stderr lacks '$needle': newfs_hammer $*"; cat err.txt; fails=$((fails+1)); return
  fi
  echo "ok   [$name]"
}
# untouched FILE: the refusal wrote nothing
untouched() {
  if [ -n "$(tr -d '\0' <"$1" | head -c1)" ]; then
    echo "FAIL [$2]: $1 was written although newfs refused"; fails=$((fails+1))
  fi
}

truncate -s 1G a.img b.img c.img
truncate -s 16G big.img

# --- refusals, each with DragonFly's wording where it has one
run "no args"        1 "You must specify at least one special file" -- -L X
run "no label"       1 "A filesystem label must be specified" -- a.img
grep -q "^usage: newfs_hammer -L label" err.txt || { echo "FAIL [no label]: no usage"; fails=$((fails+1)); }
run "help"           0 "usage: newfs_hammer" -- -h
run "unknown opt"    1 "unknown option -Z" -- -Z -L X a.img
run "unknown long"   1 "unknown option --bogus" -- --bogus -L X a.img
run "missing arg"    1 "needs an argument" -- a.img -L
run "bad suffix"     1 "Unknown suffix in number '8X'" -- -L X -f -u 8X a.img
run "no suffix"      1 "Unknown suffix in number '8388608'" -- -L X -f -u 8388608 a.img
run "trailing junk"  1 "Unknown suffix in number '8MB'" -- -L X -f -u 8MB a.img
run "not a number"   1 "is not a number" -- -L X -f -u M a.img
run "negative"       1 "negative size" -- -L X -f -u -16K a.img
run "overflow"       1 "value too large" -- -L X -f -u 99999999999T a.img
run "u 8K"           1 "Value not an integral multiple of 16K: 8K" -- -L X -f -u 8K a.img
run "u small"        1 "The minimum UNDO/REDO FIFO size is 0.50GB" -- -L X -u 8M a.img
run "u 0 unforced"   1 "The minimum UNDO/REDO FIFO size is 0.50GB" -- -L X -u 0K a.img
run "u too big"      1 "The maximum UNDO/REDO FIFO size is 1.00GB" -- -L X -f -u 1040M a.img
run "b small"        1 "The minimum boot area size is 32.00KB" -- -L X -b 16K a.img
run "b too big"      1 "The maximum boot area size is 256.00MB" -- -L X -f -b 272M a.img
run "m small"        1 "The minimum memory log size is 256.00KB" -- -L X -m 16K a.img
run "m too big"      1 "The maximum memory log size is 64.00GB" -- -L X -f -m 65G a.img
run "V 0"            1 "I don't understand how to format HAMMER version 0" -- -L X -f -V 0 a.img
run "V 8"            1 "I don't understand how to format HAMMER version 8" -- -L X -f -V 8 a.img
run "V junk"         1 "-V: 'seven' is not a non-negative integer" -- -L X -f -V seven a.img
run "long label"     1 "at most 63" -- -L "$(printf 'x%.0s' {1..64})" -f a.img
run "bad fsid"       1 "--fsid: 'nope' is not a UUID" -- -L X -f --fsid nope a.img
run "bad pfs uuid"   1 "--pfs-uuid: '$FSID-0' is not a UUID" -- -L X -f --pfs-uuid "$FSID-0" a.img
run "bad time"       1 "--time-us: '12x' is not a non-negative integer" -- -L X -f --time-us 12x a.img
run "time > 2106"    1 "past 2106" -- -L X -f --time-us 4294967296000000 a.img
SOURCE_DATE_EPOCH=yesterday run "bad SDE" 1 "SOURCE_DATE_EPOCH: 'yesterday'" -- -L X -f a.img
run "missing file"   1 "nope.img: no such file or device" -- -L X -f nope.img
run "directory"      1 "Unsupported file type for ." -- -L X -f .
run "twice"          1 "b.img: Specified more than once (same as volume 0, b.img)" -- -L X -f b.img b.img
ln -sf a.img alias.img
run "twice via link" 1 "alias.img: Specified more than once" -- -L X -f a.img alias.img
run "under 10GB"     1 "Cannot create a HAMMER filesystem less than 10GB" -- -L X a.img
truncate -s 40M small.img
run "too small"      1 "small.img (volume 0) is too small for the file system" -- -L X -f -u 16M small.img
many=(); for i in $(seq 0 256); do many+=(a.img); done
run "257 volumes"    1 "The maximum number of volumes is 256" -- -L X -f "${many[@]}"
for f in a.img b.img c.img small.img; do untouched $f "refusals"; done

# --- a forced 1 GB format: summary on stdout, the warning on stderr
run "1G forced" 0 "WARNING: You have specified an UNDO/REDO FIFO size less than   0.50GB, which may lead to VFS panics" \
  -- -L REF1 -f -u 8M --fsid $FSID --time-us 1795306471606999 a.img
cat >want.txt <<EOF
Volume 0 REGFILE a.img           size   1.00GB
initialize freemap volume 0
initializing the undo map (8 MB)
---------------------------------------------
HAMMER version 7
1 volume total size   1.00GB
root-volume:         a.img
boot-area-size:       32.00KB
memory-log-size:     256.00KB
undo-buffer-size:      8.00MB
total-pre-allocated:  24.00MB
fsid:                $FSID
EOF
if ! head -12 out.txt | diff -u want.txt -; then echo "FAIL [1G summary]"; fails=$((fails+1)); else echo "ok   [1G summary]"; fi
grep -q "WARNING: The minimum UNDO/REDO FIFO is   0.50GB, you really should not" out.txt &&
grep -q "WARNING: HAMMER filesystems less than 50GB are not recommended!" out.txt &&
grep -q "NOTE: Please remember" out.txt && ! grep -q "periodic.conf" out.txt &&
  echo "ok   [1G notes]" || { echo "FAIL [1G notes]"; cat out.txt; fails=$((fails+1)); }
[ "$(od -An -tx1 -j48 -N16 a.img | tr -d ' \n')" = 52fb81a307b44fdcb4be5c83274d03cb ] &&
  echo "ok   [fsid bytes]" || { echo "FAIL [fsid bytes]"; fails=$((fails+1)); }
cp a.img a1.img

# same inputs, same image; SOURCE_DATE_EPOCH gives whole seconds
"$NEWFS" -L REF1 -f -u 8M --fsid $FSID --time-us 1795306471606999 a.img >/dev/null 2>&1
cmp -s a.img a1.img && echo "ok   [reproducible]" || { echo "FAIL [reproducible]"; fails=$((fails+1)); }
SOURCE_DATE_EPOCH=1795306471 "$NEWFS" -L REF1 -f -u 8M --fsid $FSID b.img >/dev/null 2>&1
# root inode ctime at volume offset 0x2088000+16: 1795306471000000 = 0x000660d25c77b0c0... check via printf
want=$(printf '%016x' 1795306471000000 | sed 's/../& /g' | awk '{for(i=8;i>=1;i--) printf "%s", $i}')
got=$(od -An -tx1 -j$((0x2088000 + 16)) -N8 b.img | tr -d ' \n')
[ "$got" = "$want" ] && echo "ok   [SOURCE_DATE_EPOCH]" || { echo "FAIL [SOURCE_DATE_EPOCH]: $got != $want"; fails=$((fails+1)); }
# different fsid, fresh random one each run
"$NEWFS" -L R -f -u 8M c.img >o1.txt 2>/dev/null; "$NEWFS" -L R -f -u 8M c.img >o2.txt 2>/dev/null
f1=$(sed -n 's/^fsid: *//p' o1.txt); f2=$(sed -n 's/^fsid: *//p' o2.txt)
[ -n "$f1" ] && [ "$f1" != "$f2" ] && echo "ok   [random fsid]" || { echo "FAIL [random fsid] '$f1' '$f2'"; fails=$((fails+1)); }

# --- multi-volume: 3 volumes, version 6, explicit areas
run "3 volumes" 0 "" -- -L REF3 -f -u 16M -b 64K -m 512K -V 6 --fsid $FSID a.img b.img c.img
for want in "Volume 0 REGFILE a.img" "Volume 2 REGFILE c.img" "initializing the undo map (16 MB)" \
            "initialize freemap volume 2" "HAMMER version 6" "3 volumes total size   3.00GB" \
            "boot-area-size:       64.00KB" "memory-log-size:       0.50MB" \
            "undo-buffer-size:     16.00MB" "total-pre-allocated:  32.00MB"; do
  grep -qF -- "$want" out.txt || { echo "FAIL [3 volumes]: no '$want'"; cat out.txt; fails=$((fails+1)); }
done
# order: freemap 0, undo, freemap 1, freemap 2
[ "$(grep -n '^initializ' out.txt | cut -d: -f2 | tr '\n' '|')" = \
  "initialize freemap volume 0|initializing the undo map (16 MB)|initialize freemap volume 1|initialize freemap volume 2|" ] &&
  echo "ok   [3 volume order]" || { echo "FAIL [3 volume order]"; fails=$((fails+1)); }
[ "$(od -An -tu4 -j144 -N12 c.img | tr -s ' ')" = " 2 3 6" ] &&
  echo "ok   [vol 2 header]" || { echo "FAIL [vol 2 header]"; od -An -tu4 -j144 -N12 c.img; fails=$((fails+1)); }

# --- forced small areas warn, -u 0K forced = default 512 MB
run "small areas" 0 "WARNING: You have specified boot area size less than  32.00KB" -- -L S -f -b 16K -m 16K -u 16M a.img
grep -qF "WARNING: You have specified memory log size less than 256.00KB" err.txt &&
  echo "ok   [memlog warning]" || { echo "FAIL [memlog warning]"; fails=$((fails+1)); }
run "u 0 forced" 0 "less than   0.50GB" -- -L Z -f -u 0K a.img
grep -qF "undo-buffer-size:      0.50GB" out.txt && echo "ok   [u 0 = default]" ||
  { echo "FAIL [u 0 = default]"; cat out.txt; fails=$((fails+1)); }

# --- 16 GB without force: defaults as DragonFly's v7-1vol-16g
run "16G default" 0 "" -- -L REF16 big.img
grep -qF "undo-buffer-size:      0.50GB" out.txt && grep -qF "total-pre-allocated:   0.52GB" out.txt &&
  ! grep -q "you really should not" out.txt && grep -q "less than 50GB" out.txt &&
  [ ! -s err.txt ] && echo "ok   [16G summary]" || { echo "FAIL [16G summary]"; cat out.txt err.txt; fails=$((fails+1)); }

[ $fails -eq 0 ] && echo "PASS" || echo "$fails FAILED"
exit $((fails > 0))
