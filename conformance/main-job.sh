#!/usr/bin/env bash
# main-job.sh BUILD [crashloop options]: the README's main job, the
# crash-recovery conformance suite on the simulated device in quick mode.
# Each crash state is one check; the last line is 'N passed, F failed'.
set -uo pipefail
B=${1:-build}
shift || true
exec "$B/conformance/crashloop" --quick "$@"
