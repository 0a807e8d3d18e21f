#!/usr/bin/env bash
# systemd_unit.sh: the mirror-stream template unit.  `meson install` into a
# DESTDIR puts hammer-mirror-stream@.service in the systemd unit folder and
# the example configuration and the mirroring guide in share/doc; a test
# copy of the installed unit whose ExecStart names the build's hammer (the
# installed path does not exist outside the DESTDIR) passes `systemd-analyze
# verify` with no message, with the example conf and a RequiresMountsFor
# drop-in as the guide shows; the command line systemd builds from the conf
# is `hammer -i 5 mirror-stream /Backup1/test /Backup2/pfs/test`; a broken
# copy is caught (the check checks).  hammer-cleanup.service (oneshot,
# `hammer cleanup`) and hammer-cleanup.timer (daily, Persistent,
# RandomizedDelaySec) are installed beside it and pass verify too; a timer
# with a bad OnCalendar does not.  Exit 77 without systemd-analyze.
# Run alone: BUILD=build-x bash tests/systemd_unit.sh
set -uo pipefail
export LC_ALL=C
: "${BUILD:?set BUILD to the meson build dir}"
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze not installed"; exit 77; }
BUILD=$(cd "$BUILD" && pwd)
HAMMER=$BUILD/cli/hammer
[ -x "$HAMMER" ] || { echo "FAIL: $HAMMER not built"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/sdunit.XXXXXX")
trap 'rm -rf "$work"' EXIT
fails=0 passes=0
ok()   { passes=$((passes+1)); echo "ok   [$1]"; }
fail() { fails=$((fails+1)); echo "FAIL [$1]${2:+: $2}"; }

dest=$work/root
if out=$(meson install -C "$BUILD" --destdir "$dest" --no-rebuild --quiet 2>&1); then
  ok "meson install --destdir"
else
  fail "meson install --destdir" "$out"; echo "$passes passed, $fails failed"; exit 1
fi
unit=$(find "$dest" -path '*/systemd/system/hammer-mirror-stream@.service' | head -1)
if [ -n "$unit" ]; then ok "unit installed (${unit#"$dest"})"
else fail "unit installed" "no */systemd/system/hammer-mirror-stream@.service under $dest"; exit 1; fi
want_dir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
if [ "${unit#"$dest"}" = "$want_dir/hammer-mirror-stream@.service" ]; then ok "in the systemd unit dir ($want_dir)"
else fail "in the systemd unit dir" "want $want_dir, got ${unit#"$dest"}"; fi
conf_ex=$(find "$dest" -path '*/share/doc/hammer-linux/mirror-stream.conf.example' | head -1)
[ -n "$conf_ex" ] && ok "example conf installed (${conf_ex#"$dest"})" || fail "example conf installed" "not under $dest"
guide=$(find "$dest" -path '*/share/doc/hammer-linux/mirroring-guide.md' | head -1)
[ -n "$guide" ] && ok "guide installed (${guide#"$dest"})" || fail "guide installed" "not under $dest"
if grep -q '@[A-Z]*@' "$unit"; then fail "no unsubstituted @VAR@" "$(grep '@[A-Z]*@' "$unit")"
else ok "no unsubstituted @VAR@"; fi
bin=$(sed -n 's|^ExecStart=\([^ ]*\) .*|\1|p' "$unit")
if [ -x "$dest$bin" ]; then ok "ExecStart names the installed hammer ($bin)"
else fail "ExecStart names the installed hammer" "$dest$bin missing"; fi

# the test copy: the build's hammer instead of the installed path
u=$work/units
mkdir -p "$u"
sed "s|^ExecStart=$bin |ExecStart=$HAMMER |" "$unit" > "$u/hammer-mirror-stream@.service"
verify() {	# verify NAME UNITFILE: rc 0 and no message
  local out
  if out=$(systemd-analyze verify --man=no "$2" 2>&1) && [ -z "$out" ]; then ok "$1"
  else fail "$1" "systemd-analyze verify $2: $out"; fi
}
verify "systemd-analyze verify (instance guide)" "$u/hammer-mirror-stream@guide.service"
# the drop-in of the guide that ties the unit to its mounts
mkdir -p "$u/hammer-mirror-stream@guide.service.d"
printf '[Unit]\nRequiresMountsFor=/Backup1/test /Backup2\n' \
  > "$u/hammer-mirror-stream@guide.service.d/mounts.conf"
verify "systemd-analyze verify with the mounts drop-in" "$u/hammer-mirror-stream@guide.service"
# an instance name with an escaped path (systemd-escape) works as well
verify "systemd-analyze verify (escaped instance)" "$u/hammer-mirror-stream@$(systemd-escape Backup1-test).service"

# the check checks: a missing binary and a bad key are reported
sed "s|^ExecStart=$HAMMER |ExecStart=$work/nonexistent/hammer |" "$unit" > "$u/broken@.service"
if out=$(systemd-analyze verify --man=no "$u/broken@x.service" 2>&1) || [ -z "$out" ]; then
  fail "verify catches a missing ExecStart binary" "rc 0, '$out'"
else ok "verify catches a missing ExecStart binary"; fi

# the command line systemd makes of the example conf: $OPTIONS split into
# words, ${SOURCE} and ${TARGET} one word each (EnvironmentFile syntax)
cmdline=$(
  eval "$(sed -n 's/^\([A-Z_]*\)=\(.*\)$/\1='"'"'\2'"'"'/p' "$conf_ex")"
  line=$(sed -n 's/^ExecStart=//p' "$unit")
  out=()
  for w in $line; do
    case $w in
      '$OPTIONS') for o in $OPTIONS; do out+=("$o"); done ;;
      '${SOURCE}') out+=("$SOURCE") ;;
      '${TARGET}') out+=("$TARGET") ;;
      *) out+=("$w") ;;
    esac
  done
  echo "${out[*]}")
want="$bin -i 5 mirror-stream /Backup1/test /Backup2/pfs/test"
if [ "$cmdline" = "$want" ]; then ok "ExecStart from the example conf: $cmdline"
else fail "ExecStart from the example conf" "want '$want', got '$cmdline'"; fi
for k in Restart=always RestartSec=15 'EnvironmentFile=/etc/hammer/mirror-stream/%i.conf' \
         'WantedBy=multi-user.target'; do
  grep -qxF "$k" "$unit" && ok "unit has $k" || fail "unit has $k"
done

# the nightly cleanup: hammer-cleanup.service (oneshot, `hammer cleanup`)
# and hammer-cleanup.timer (daily, Persistent, RandomizedDelaySec), both in
# the unit dir; verified as installed (ExecStart made the build's hammer)
csvc=$(find "$dest" -path '*/systemd/system/hammer-cleanup.service' | head -1)
ctim=$(find "$dest" -path '*/systemd/system/hammer-cleanup.timer' | head -1)
if [ -n "$csvc" ] && [ "${csvc#"$dest"}" = "$want_dir/hammer-cleanup.service" ]; then
  ok "hammer-cleanup.service installed (${csvc#"$dest"})"
else fail "hammer-cleanup.service installed" "got '${csvc#"$dest"}'"; fi
if [ -n "$ctim" ] && [ "${ctim#"$dest"}" = "$want_dir/hammer-cleanup.timer" ]; then
  ok "hammer-cleanup.timer installed (${ctim#"$dest"})"
else fail "hammer-cleanup.timer installed" "got '${ctim#"$dest"}'"; fi
if [ -n "$csvc" ] && [ -n "$ctim" ]; then
  grep -q '@[A-Z]*@' "$csvc" && fail "cleanup service: no unsubstituted @VAR@" || ok "cleanup service: no unsubstituted @VAR@"
  expect_line() { grep -qxF "$2" "$1" && ok "$(basename "$1") has $2" || fail "$(basename "$1") has $2"; }
  expect_line "$csvc" "Type=oneshot"
  expect_line "$csvc" "ExecStart=$bin cleanup"
  for k in OnCalendar=daily Persistent=true RandomizedDelaySec=1h WantedBy=timers.target; do
    expect_line "$ctim" "$k"
  done
  sed "s|^ExecStart=$bin |ExecStart=$HAMMER |" "$csvc" > "$u/hammer-cleanup.service"
  cp "$ctim" "$u/hammer-cleanup.timer"
  verify "systemd-analyze verify hammer-cleanup.service" "$u/hammer-cleanup.service"
  verify "systemd-analyze verify hammer-cleanup.timer" "$u/hammer-cleanup.timer"
  # the timer fires once a day
  if next=$(systemd-analyze calendar daily 2>&1) && grep -q "Next elapse" <<<"$next"; then
    ok "OnCalendar=daily parses ($(sed -n 's/^ *Next elapse: //p' <<<"$next"))"
  else fail "OnCalendar=daily parses" "$next"; fi
  # the check checks: a broken timer is reported
  printf '[Timer]\nOnCalendar=dailyish\n[Install]\nWantedBy=timers.target\n' > "$u/brokencleanup.timer"
  cp "$u/hammer-cleanup.service" "$u/brokencleanup.service"
  if out=$(systemd-analyze verify --man=no "$u/brokencleanup.timer" 2>&1) || [ -z "$out" ]; then
    fail "verify catches a bad OnCalendar" "rc 0, '$out'"
  else ok "verify catches a bad OnCalendar"; fi
fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
