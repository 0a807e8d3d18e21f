#!/usr/bin/env bash
# crashloop.sh [BUILD] [crashloop options]: speed of the crash-recovery
# conformance loop in quick mode (29 workloads), with one job and with one
# job per online CPU.  Reports the loop's own rate (crash states judged per
# second of state checking, freemap recount on every state), the wall time
# of the whole run, and states per CPU-second (user + sys of every process),
# which a busy machine distorts less.  Each configuration runs REPEAT times
# (default 3); the best run is the result.  Exit 1 if a run fails.
set -uo pipefail
B=${1:-build}
shift || true
exe=$B/conformance/crashloop
[ -x "$exe" ] || { echo "crashloop.sh: no $exe (build first)" >&2; exit 2; }
repeat=${REPEAT:-3}
ncpu=$(getconf _NPROCESSORS_ONLN)

echo "crash loop benchmark: quick mode, 256 MB RAM volume, 8 MB UNDO FIFO,"
echo "  sim knobs default (subsets up to 10 writes, 1024 samples, torn + garbage),"
echo "  freemap recount on every state; $(uname -m), $ncpu CPUs online,"
opt() {
	python3 -c 'import json, sys
for o in json.load(open(sys.argv[1])):
    if o["name"] == sys.argv[2]: print(o["value"])' "$B/meson-info/intro-buildoptions.json" "$1" 2>/dev/null
}
echo "  build: buildtype $(opt buildtype), b_sanitize $(opt b_sanitize),"
echo "  load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

status=0
for jobs in 1 "$ncpu"; do
	best_rate=0 best_line=
	for ((i = 1; i <= repeat; i++)); do
		out=$(mktemp)
		TIMEFORMAT='%R %U %S'
		times=$( { time "$exe" --quick --jobs "$jobs" "$@" >"$out" 2>&1; } 2>&1 )
		rc=$?
		if [ $rc -ne 0 ]; then
			echo "FAIL: crashloop --quick --jobs $jobs exited $rc:"
			tail -5 "$out"
			status=1
			rm -f "$out"
			continue
		fi
		summary=$(grep -E '^[0-9]+ workloads, ' "$out")
		rm -f "$out"
		read -r wall user sys <<<"$times"
		states=$(sed -E 's/^[0-9]+ workloads, ([0-9]+) crash states.*/\1/' <<<"$summary")
		rate=$(sed -E 's/.*\(([0-9]+) states\/s.*/\1/' <<<"$summary")
		loop_cpu=$(sed -E 's/.*; ([0-9]+) states per CPU-second.*/\1/' <<<"$summary")
		cpu_rate=$(awk -v n="$states" -v u="$user" -v s="$sys" \
			'BEGIN { c = u + s; printf "%.0f", (c > 0 ? n / c : 0) }')
		line=$(printf "jobs %-2s %5d states %6d states/s (loop) %6.2f s wall %6.2f s CPU; per CPU-s: %5d states (loop), %5d (whole run)" \
			"$jobs" "$states" "$rate" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" "$loop_cpu" "$cpu_rate")
		echo "  run $i: $line"
		if [ "$rate" -gt "$best_rate" ]; then
			best_rate=$rate
			best_line=$line
		fi
	done
	[ -n "$best_line" ] && echo "best: $best_line"
done
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
