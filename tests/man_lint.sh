#!/usr/bin/env bash
# man_lint.sh: the manual pages in docs/man agree with mandoc and with the
# programs.
#   - `mandoc -T lint -W warning` reports nothing for any page (Debian
#     package mandoc; scripts/deps.sh installs it);
#   - every command `hammer help` lists has an `.It Cm NAME` entry in the
#     COMMANDS section of hammer.8, and every entry there is a command;
#   - every global option of `hammer -h`'s usage lines is an `.It Fl X` of
#     hammer.8; every option of newfs_hammer's, undo's, hammer-fuse's and
#     the mount helpers' usage lines (and every -o mount option hammer-fuse
#     -h lists) is in their page;
#   - every page docs/man/meson.build installs exists, and the other way.
# So a command or option cannot land without its entry.  Exit 77 (skip)
# only when mandoc is missing and everything else passed.
set -uo pipefail
export LC_ALL=C
: "${BUILD:?set BUILD to the meson build dir}"
SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}
MAN=$SRC/docs/man
HAMMER=$BUILD/cli/hammer
fails=0 passes=0
ok()   { passes=$((passes+1)); echo "ok   [$1]"; }
fail() { fails=$((fails+1)); echo "FAIL [$1]${2:+: $2}"; }

pages=()
for p in "$MAN"/*.[158]; do pages+=("$p"); done
[ ${#pages[@]} -ge 5 ] && ok "${#pages[@]} pages in docs/man" || fail "pages in docs/man" "found ${#pages[@]}"

# ---------------------------------------------------------------- mandoc
have_mandoc=1
if ! command -v mandoc >/dev/null; then
  have_mandoc=0
  echo "SKIP [mandoc -T lint]: mandoc not installed (Debian package mandoc, scripts/deps.sh)"
else
  for p in "${pages[@]}"; do
    out=$(mandoc -T lint -W warning "$p" 2>&1); st=$?
    if [ $st -eq 0 ] && [ -z "$out" ]; then ok "mandoc -T lint -W warning $(basename "$p")"
    else fail "mandoc -T lint -W warning $(basename "$p")" "exit $st: $out"; fi
  done
fi

# ---------------------------------------------------------------- meson.build
inst=$(grep -o "'[a-z_.-]*\.[158]'" "$MAN/meson.build" | tr -d "'" | sort -u)
have=$(for p in "${pages[@]}"; do basename "$p"; done | sort -u)
aliases=$(grep -o "'[a-z_.-]*\.[158]'" "$MAN/meson.build" | tr -d "'" | sort -u |
          while read -r a; do [ -e "$MAN/$a" ] || echo "$a"; done)
missing=$(comm -23 <(echo "$have") <(echo "$inst"))
if [ -z "$missing" ]; then ok "docs/man/meson.build installs every page"
else fail "docs/man/meson.build installs every page" "not installed: $missing"; fi
for a in $aliases; do
  if grep -q "'$a'.*" "$MAN/meson.build" && grep -q "pointing_to" "$MAN/meson.build"; then ok "alias $a is a link"
  else fail "alias $a" "neither a page nor a link"; fi
done

# ---------------------------------------------------------------- hammer
if [ ! -x "$HAMMER" ]; then
  fail "hammer built" "$HAMMER missing"
else
  help=$("$HAMMER" help 2>/dev/null); st=$?
  if [ $st -eq 0 ] && [ -n "$help" ]; then ok "hammer help exits 0"
  else fail "hammer help exits 0" "exit $st"; help=$("$HAMMER" -h 2>&1); fi
  # command lines: "  hammer [-f blkdevs ]NAME ..."
  cmds=$(echo "$help" | sed -n 's/^  hammer \(-f blkdevs \)\{0,1\}\([a-z][a-z0-9-]*\).*/\2/p' | sort -u)
  # entries: .It Cm NAME in section COMMANDS
  entries=$(awk '/^\.Sh /{ s = $2 } s == "COMMANDS" && /^\.It Cm / { print $3 }' "$MAN/hammer.8" |
            sed 's/[^a-z0-9-].*//' | sort -u)
  ncmd=$(echo "$cmds" | grep -c .)
  [ "$ncmd" -ge 20 ] && ok "hammer help lists $ncmd commands" || fail "hammer help lists the commands" "only $ncmd: $help"
  nodoc=$(comm -23 <(echo "$cmds") <(echo "$entries"))
  nocmd=$(comm -13 <(echo "$cmds") <(echo "$entries"))
  if [ -z "$nodoc" ]; then ok "every command of hammer help has an entry in hammer.8"
  else fail "every command of hammer help has an entry in hammer.8" "no entry for: $(echo $nodoc)"; fi
  if [ -z "$nocmd" ]; then ok "every command entry of hammer.8 is a command"
  else fail "every command entry of hammer.8 is a command" "not in hammer help: $(echo $nocmd)"; fi
  # each command's usage line and the words of its entry: the same
  # arguments, in order (placeholder words, without brackets)
  for c in $cmds; do
    u=$(echo "$help" | sed -n "s/^  hammer \(-f blkdevs \)\{0,1\}$c\([[:space:][].*\)\{0,1\}$/\2/p" | head -1)
    u=${u%%  (*}	# a trailing "  (note)" is not part of the syntax
    want=$(echo "$u" | grep -o '[a-z][a-z_-]*' | tr '\n' ' ')
    line=$(awk -v c="$c" '/^\.Sh /{ s = $2 } s == "COMMANDS" && $1 == ".It" && $2 == "Cm" && $3 == c { print; exit }' "$MAN/hammer.8")
    got=$(echo "$line" | sed 's/^\.It Cm [a-z0-9-]*//' |
          sed 's/\b\(Oo\|Oc\|Op\|Ar\|Ns\|Cm\|Bro\|Brc\|Ql\|Li\)\b//g' | grep -o '[a-z][a-z_-]*' | tr '\n' ' ')
    if [ "$want" = "$got" ]; then ok "hammer $c: usage and hammer.8 name the same arguments ($want)"
    else fail "hammer $c: usage and hammer.8 name the same arguments" "usage '$want', hammer.8 '$got'"; fi
  done
  # global options: [-2BdhqvXy] and [-x arg]
  flags=$(echo "$help" | sed -n '/^usage:/,/^  -/p' | grep -o '\[-[A-Za-z0-9]*' | sed 's/^\[-//' | fold -w1 | sort -u)
  for f in $flags; do
    if grep -q "^\.It Fl $f\b" "$MAN/hammer.8"; then ok "hammer -$f in hammer.8"
    else fail "hammer -$f in hammer.8" "no .It Fl $f"; fi
  done
fi

# ---------------------------------------------------------------- others
# check_flags PAGE USAGE-TEXT NAME: every -x of the usage text is .It Fl x
check_flags() {
  local page=$1 text=$2 name=$3 f
  for f in $(echo "$text" | grep -o '\[-[A-Za-z0-9]*' | sed 's/^\[-//' | fold -w1 | sort -u) \
           $(echo "$text" | grep -o '^\(usage: \)\{0,1\}[a-z._-]* -[A-Za-z]' | sed 's/.*-//'); do
    if grep -q "^\.It Fl $f\b\|^\.It Fl [A-Za-z] , Fl $f\b\|Fl $f\b" "$MAN/$page"; then ok "$name -$f in $page"
    else fail "$name -$f in $page" "no Fl $f"; fi
  done
  for f in $(echo "$text" | grep -o '\[--[a-z-]*' | sed 's/^\[--//' | sort -u); do
    if grep -q "Fl -$f\b" "$MAN/$page"; then ok "$name --$f in $page"
    else fail "$name --$f in $page" "no Fl -$f"; fi
  done
}
if [ -x "$BUILD/cli/newfs_hammer" ]; then
  check_flags newfs_hammer.8 "$("$BUILD/cli/newfs_hammer" -h 2>&1)" newfs_hammer
fi
if [ -x "$BUILD/cli/undo" ]; then
  check_flags undo.1 "$("$BUILD/cli/undo" -Z 2>&1 | head -1)" undo
fi
if [ -x "$BUILD/fuse/hammer-fuse" ]; then
  hf=$("$BUILD/fuse/hammer-fuse" -h 2>&1)
  check_flags hammer-fuse.8 "$(echo "$hf" | head -1)" hammer-fuse
  # every "-o NAME" of the help, and every name of its "-o a, b, c" lists
  opts=$( (echo "$hf" | sed 1d | grep -o -- '-o [a-z_]*' | sed 's/^-o //'
           echo "$hf" | sed -n '/-o [a-z_]*, /,/:/p' | sed 's/:.*//' | tr ',' '\n' |
             sed 's/^[[:space:]]*\(-o \)\{0,1\}//; s/[^a-z_].*//') | grep . | sort -u)
  for o in $opts; do
    if grep -q "^\.It Cm .*\b$o\b" "$MAN/hammer-fuse.8"; then ok "hammer-fuse -o $o in hammer-fuse.8"
    else fail "hammer-fuse -o $o in hammer-fuse.8" "no .It Cm entry naming it"; fi
  done
  for h in mount.fuse.hammer umount.fuse.hammer; do
    check_flags hammer-fuse.8 "$("$BUILD/fuse/$h" 2>&1 | grep usage)" "$h"
  done
fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ] || exit 1
[ "$have_mandoc" -eq 1 ] || exit 77
exit 0
