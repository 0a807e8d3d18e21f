#!/usr/bin/env bash
# build.sh: set up, build and run.  See README.md.
#   ./build.sh main   install missing packages, build, run the main job
#   ./build.sh test   install missing packages, build, run every test
#                     (unit, conformance, fuse, fuzz-regression; unit again
#                     under valgrind and under ASan/UBSan), then print
#                     'N passed, F failed, S skipped'
#   ./build.sh slow   the long campaigns (suite 'slow')
# BUILD_DIR (default build) and JOBS (default nproc) may be set.
set -uo pipefail
cd "$(dirname "$0")"
mode=${1:-test}
B=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}

scripts/deps.sh || { echo "build.sh: installing packages failed"; exit 1; }

configure() {  # dir, extra args...
  local dir=$1; shift
  mkdir -p "$(dirname "$dir")"
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" -Dwerror=true "$@" >"$dir.setup.log" 2>&1
  else
    meson setup "$dir" -Dwerror=true "$@" >"$dir.setup.log" 2>&1
  fi || { cat "$dir.setup.log"; echo "build.sh: meson setup $dir failed"; exit 1; }
  ninja -C "$dir" -j "$JOBS" || { echo "build.sh: build of $dir failed"; exit 1; }
}

case "$mode" in
main)
  configure "$B"
  exec bash conformance/main-job.sh "$B"
  ;;
test)
  configure "$B"
  logs=()
  rm -f "$B"/meson-logs/testlog*.json
  meson test -C "$B" --no-suite slow --num-processes "$JOBS" --print-errorlogs
  logs+=("$B/meson-logs/testlog.json")
  if command -v valgrind >/dev/null; then
    meson test -C "$B" --setup valgrind --suite unit --no-suite shell --no-suite heavy --num-processes "$JOBS" --print-errorlogs
    logs+=("$B/meson-logs/testlog-valgrind.json")
  fi
  A=$B-asan
  configure "$A" -Dsanitizers=address,undefined -Db_lundef=false
  rm -f "$A"/meson-logs/testlog*.json
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C "$A" --suite unit --num-processes "$JOBS" --print-errorlogs
  logs+=("$A/meson-logs/testlog.json")
  python3 scripts/totals.py "${logs[@]}"
  ;;
slow)
  configure "$B"
  rm -f "$B"/meson-logs/testlog*.json
  meson test -C "$B" --suite slow --num-processes "$JOBS" --print-errorlogs
  python3 scripts/totals.py "$B/meson-logs/testlog.json"
  ;;
*)
  echo "usage: $0 main|test|slow" >&2
  exit 2
  ;;
esac
