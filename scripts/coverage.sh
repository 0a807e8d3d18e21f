#!/usr/bin/env bash
# coverage.sh BUILD SRC: run the unit suite and write an lcov HTML report
# to BUILD/coverage-html/index.html.  Build with -Dcoverage=true.
set -euo pipefail
build=$1 src=$2
lcov --quiet --zerocounters --directory "$build"
meson test -C "$build" --suite unit --num-processes 2 >/dev/null || true
lcov --quiet --capture --directory "$build" --base-directory "$src" \
     --output-file "$build/coverage.info" --rc lcov_branch_coverage=1
lcov --quiet --extract "$build/coverage.info" "$src/ref/*" "$src/sim/*" "$src/cli/*" \
     --output-file "$build/coverage.info" --rc lcov_branch_coverage=1
genhtml --quiet --branch-coverage -o "$build/coverage-html" "$build/coverage.info"
lcov --summary "$build/coverage.info" 2>&1 | tail -3
echo "report: $build/coverage-html/index.html"
