#!/usr/bin/env python3
"""totals.py LOG...: sum meson testlog JSON files into one closing line.

Prints each failed test with the command that reruns it, then
'N passed, F failed, S skipped' on a line of its own.  Exit 1 on any failure
or when no test ran at all.
"""
import json
import sys

passed = failed = skipped = 0
failures = []
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        print(f"totals: cannot read {path}: {e}")
        failed += 1
        continue
    setup = "valgrind" if "valgrind" in path else None
    for line in lines:
        if not line.strip():
            continue
        t = json.loads(line)
        r = t.get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
            failures.append((t.get("name"), r, setup, path))
for name, r, setup, path in failures:
    extra = f" --setup {setup}" if setup else ""
    print(f"FAILED {name} ({r}); rerun: meson test -C <builddir>{extra} '{name}' --print-errorlogs   [log {path}]")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
