#!/usr/bin/env bash
# install_layout.sh: `DESTDIR=$tmp meson install` puts every file where
# Debian's file-system packages put theirs (e2fsprogs, fuse3, btrfs-progs
# as models), with the right mode, and nothing else:
#   sbindir           newfs_hammer (as mkfs.* and mke2fs)
#   bindir            hammer, undo, hammer-fuse (as btrfs and fuse2fs:
#                     users run history, snapls, undo and mounts of their own)
#   /sbin             mount.fuse.hammer, umount.fuse.hammer (as mount.fuse3:
#                     libmount looks for helpers there, whatever the prefix)
#   mandir/man{1,5,8} undo.1, hammer.5, hammer.8, newfs_hammer.8,
#                     hammer-fuse.8 and its links mount.fuse.hammer.8 and
#                     umount.fuse.hammer.8
#   the systemd system unit folder (pkg-config systemd, else /lib/systemd/system)
#                     hammer-mirror-stream@.service, hammer-cleanup.service
#                     and hammer-cleanup.timer
#   datadir/doc/hammer-linux  the guides and mirror-stream.conf.example
# The folders come from the build's own options (meson introspect), so the
# test holds for any --prefix.  Programs 0755, data 0644, links to their
# page.  Without FUSE (no libfuse3) the FUSE files are not expected.
set -uo pipefail
export LC_ALL=C
: "${BUILD:?set BUILD to the meson build dir}"
BUILD=$(cd "$BUILD" && pwd)
SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}
fails=0 passes=0
ok()   { passes=$((passes+1)); echo "ok   [$1]"; }
fail() { fails=$((fails+1)); echo "FAIL [$1]${2:+: $2}"; }

stage=$(mktemp -d "${TMPDIR:-/tmp}/install.XXXXXX")
trap 'rm -rf "$stage"' EXIT

opt() {	# opt NAME: a meson option's value
  meson introspect --buildoptions "$BUILD" |
    python3 -c "import json,sys; print([o['value'] for o in json.load(sys.stdin) if o['name']==sys.argv[1]][0])" "$1"
}
prefix=$(opt prefix)
under() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
bindir=$(under "$(opt bindir)")
sbindir=$(under "$(opt sbindir)")
mandir=$(under "$(opt mandir)")
datadir=$(under "$(opt datadir)")
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
[ -n "$unitdir" ] || unitdir=/lib/systemd/system
docdir=$datadir/doc/hammer-linux
echo "prefix $prefix: bindir $bindir, sbindir $sbindir, mandir $mandir, units $unitdir"

fuse=0
[ -e "$BUILD/fuse/hammer-fuse" ] && fuse=1

# expected: MODE TYPE PATH [LINK-TARGET]
{
  echo "755 f $sbindir/newfs_hammer"
  echo "755 f $bindir/hammer"
  echo "755 f $bindir/undo"
  if [ $fuse = 1 ]; then
    echo "755 f $bindir/hammer-fuse"
    echo "755 f /sbin/mount.fuse.hammer"
    echo "755 f /sbin/umount.fuse.hammer"
  fi
  echo "644 f $mandir/man1/undo.1"
  echo "644 f $mandir/man5/hammer.5"
  echo "644 f $mandir/man8/hammer.8"
  echo "644 f $mandir/man8/newfs_hammer.8"
  echo "644 f $mandir/man8/hammer-fuse.8"
  echo "777 l $mandir/man8/mount.fuse.hammer.8 hammer-fuse.8"
  echo "777 l $mandir/man8/umount.fuse.hammer.8 hammer-fuse.8"
  echo "644 f $unitdir/hammer-mirror-stream@.service"
  echo "644 f $unitdir/hammer-cleanup.service"
  echo "644 f $unitdir/hammer-cleanup.timer"
  echo "644 f $docdir/mirror-stream.conf.example"
  echo "644 f $docdir/mirroring-guide.md"
  echo "644 f $docdir/formatting-guide.md"
  echo "644 f $docdir/snapshots-guide.md"
} | sort > "$stage.want"

if DESTDIR=$stage meson install -C "$BUILD" --no-rebuild > "$stage.log" 2>&1; then
  ok "DESTDIR=... meson install"
else
  fail "DESTDIR=... meson install" "$(tail -5 "$stage.log")"
fi
(cd "$stage" && find . ! -type d -printf '%m %y %p %l\n' | sed 's/^\([0-9]* [a-z]\) \./\1 /; s/ $//') |
  sort > "$stage.got"
missing=$(comm -23 "$stage.want" "$stage.got")
extra=$(comm -13 "$stage.want" "$stage.got")
n=$(wc -l < "$stage.want")
if [ -z "$missing" ]; then ok "all $n expected files, modes and links are there"
else fail "expected files installed" "missing or wrong mode: $(echo "$missing" | tr '\n' ';')"; fi
if [ -z "$extra" ]; then ok "nothing unexpected is installed"
else fail "nothing unexpected is installed" "$(echo "$extra" | tr '\n' ';')"; fi
echo "installed:"; sed 's/^/  /' "$stage.got"

# what is installed works from there: the unit runs the installed hammer,
# the mount helper was built to find hammer-fuse in the installed bindir,
# and man finds the pages
unit=$stage$unitdir/hammer-mirror-stream@.service
if [ -f "$unit" ]; then
  if grep -q "^ExecStart=$bindir/hammer " "$unit"; then ok "the unit runs $bindir/hammer"
  else fail "the unit runs $bindir/hammer" "$(grep ExecStart "$unit")"; fi
fi
if [ $fuse = 1 ]; then
  if grep -aq "$bindir" "$stage/sbin/mount.fuse.hammer"; then ok "mount.fuse.hammer looks in $bindir"
  else fail "mount.fuse.hammer looks in $bindir" "no $bindir in the helper"; fi
fi
if command -v man >/dev/null; then
  for p in 1/undo 5/hammer 8/hammer 8/newfs_hammer 8/hammer-fuse 8/mount.fuse.hammer; do
    if MANPATH=$stage$mandir man -w "${p%%/*}" "${p#*/}" >/dev/null 2>&1; then ok "man ${p%%/*} ${p#*/} finds the page"
    else fail "man ${p%%/*} ${p#*/} finds the page" "$(MANPATH=$stage$mandir man -w "${p%%/*}" "${p#*/}" 2>&1)"; fi
  done
fi
rm -f "$stage.want" "$stage.got" "$stage.log"
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
