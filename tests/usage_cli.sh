#!/usr/bin/env bash
# usage_cli.sh: every program and every hammer command answers a bad
# command line the same way: a line starting "usage:" on stderr and exit
# status 1; and -h prints the usage on stdout with exit 0.
#   - for each command `hammer help` lists: `hammer CMD -h` (stdout
#     "usage: hammer ... CMD", exit 0), `hammer CMD -Z` (unknown option),
#     `hammer CMD` without its required arguments (the <...> and {...}
#     outside [...] of its usage line; commands on -f volumes: without -f),
#     `hammer -f IMAGE CMD -Z` for those;
#   - `hammer`, `hammer -Z`, `hammer nosuchcommand`, `hammer -h`, `hammer help`;
#   - newfs_hammer, undo, hammer-fuse, mount.fuse.hammer and
#     umount.fuse.hammer: an unknown option and missing arguments.
# No mount needed; nothing here may change anything (the image is checked
# unchanged at the end).
set -uo pipefail
export LC_ALL=C
: "${BUILD:?set BUILD to the meson build dir}"
BUILD=$(cd "$BUILD" && pwd)
H=$BUILD/cli/hammer
[ -x "$H" ] || { echo "FAIL: $H not built"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/usage.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fails=0 passes=0
ok()   { passes=$((passes+1)); echo "ok   [$1]"; }
fail() { fails=$((fails+1)); echo "FAIL [$1]${2:+: $2}"; }

# expect NAME STATUS STREAM PATTERN CMD...: exit STATUS, and a line of
# STREAM (out|err) matching the grep -E PATTERN
expect() {
  local name=$1 want=$2 stream=$3 pat=$4; shift 4
  timeout 20 "$@" > out.txt 2> err.txt < /dev/null
  local st=$?
  local f=err.txt
  [ "$stream" = out ] && f=out.txt
  if [ "$st" -ne "$want" ]; then fail "$name" "exit $st, want $want: $(head -3 err.txt | tr '\n' '|')"
  elif ! grep -qE -- "$pat" "$f"; then fail "$name" "no line /$pat/ on std$stream: $(head -3 "$f" | tr '\n' '|')"
  else ok "$name"; fi
}

truncate -s 1G img
"$BUILD/cli/newfs_hammer" -L USAGE -f -u 64M img > /dev/null 2>&1 || { echo "FAIL: newfs_hammer"; exit 1; }
sum0=$(md5sum < img)

# ---------------------------------------------------------------- hammer
expect "hammer (no command)" 1 err '^usage: hammer ' "$H"
expect "hammer -Z" 1 err '^usage: hammer ' "$H" -Z
expect "hammer nosuchcommand" 1 err '^usage: hammer ' "$H" nosuchcommand
expect "hammer -h" 0 out '^usage: hammer ' "$H" -h
expect "hammer help" 0 out '^  hammer help$' "$H" help

help=$("$H" help)
n=0
while IFS= read -r line; do
  [[ $line =~ ^\ \ hammer\ (-f\ blkdevs\ )?([a-z][a-z0-9-]*)(.*)$ ]] || continue
  dev=${BASH_REMATCH[1]} c=${BASH_REMATCH[2]} rest=${BASH_REMATCH[3]}
  n=$((n+1))
  cre=${c//-/\\-}
  expect "hammer $c -h" 0 out "^usage: hammer ${dev}$cre" "$H" "$c" -h
  expect "hammer $c -Z: unknown option" 1 err "^usage: hammer ${dev}$cre" "$H" "$c" -Z
  expect "hammer $c --bogus: unknown option" 1 err "^usage: hammer ${dev}$cre" "$H" "$c" --bogus
  if [ -n "$dev" ]; then
    expect "hammer $c without -f" 1 err "^usage: hammer -f blkdevs $cre" "$H" "$c"
    expect "hammer -f img $c -Z" 1 err "^usage: hammer -f blkdevs $cre" "$H" -f img "$c" -Z
  else
    # required arguments: <...>/{...} outside [...], before a "  (note)"
    syn=${rest%%  (*}
    req=$(echo "$syn" | sed -e ':a' -e 's/\[[^][]*\]//g' -e 'ta' | grep -oE '<[^>]*>|\{[^}]*\}' | wc -l)
    if [ "$req" -gt 0 ]; then
      expect "hammer $c without its $req argument(s)" 1 err "^usage: hammer $cre" "$H" "$c"
    fi
  fi
done <<< "$help"
[ "$n" -ge 20 ] && ok "$n commands tried" || fail "commands tried" "only $n from hammer help"

# ---------------------------------------------------------------- others
N=$BUILD/cli/newfs_hammer
expect "newfs_hammer -h" 0 err '^usage: newfs_hammer ' "$N" -h
expect "newfs_hammer -Z" 1 err '^usage: newfs_hammer ' "$N" -Z -L X img
expect "newfs_hammer without volumes" 1 err '^usage: newfs_hammer ' "$N" -L X
expect "newfs_hammer without -L" 1 err '^usage: newfs_hammer ' "$N" img
expect "newfs_hammer -u without its value" 1 err '^usage: newfs_hammer ' "$N" -L X -u
U=$BUILD/cli/undo
expect "undo -Z" 1 err '^usage: undo ' "$U" -Z file
expect "undo without a file" 1 err '^usage: undo ' "$U"
expect "undo -t without its value" 1 err '^usage: undo ' "$U" -t
if [ -x "$BUILD/fuse/hammer-fuse" ]; then
  F=$BUILD/fuse
  expect "hammer-fuse -h" 0 out '^usage: hammer-fuse ' "$F/hammer-fuse" -h
  expect "hammer-fuse -Z" 1 err '^usage: hammer-fuse ' "$F/hammer-fuse" -Z img "$work"
  expect "hammer-fuse without a mount point" 1 err '^usage: hammer-fuse ' "$F/hammer-fuse" img
  expect "hammer-fuse -o bogus" 1 err 'unknown mount option' "$F/hammer-fuse" -o bogus img "$work"
  expect "mount.fuse.hammer -Z" 1 err '^usage: mount.fuse.hammer ' "$F/mount.fuse.hammer" img "$work" -Z
  expect "mount.fuse.hammer without a mount point" 1 err '^usage: mount.fuse.hammer ' "$F/mount.fuse.hammer" img
  expect "mount.fuse.hammer -o without its value" 1 err '^usage: mount.fuse.hammer ' "$F/mount.fuse.hammer" img "$work" -o
  expect "umount.fuse.hammer -Z" 1 err '^usage: umount.fuse.hammer ' "$F/umount.fuse.hammer" -Z "$work"
  expect "umount.fuse.hammer without a mount point" 1 err '^usage: umount.fuse.hammer ' "$F/umount.fuse.hammer"
fi

if [ "$(md5sum < img)" = "$sum0" ]; then ok "the image is unchanged"
else fail "the image is unchanged" "a usage error wrote to it"; fi
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
