#!/usr/bin/env bash
# guide_snapshots.sh: docs/snapshots-guide.md end to end.  A sparse 16 GB
# loop device stands for /dev/sdb, /data and /etc/systemd/system are under a
# temporary folder, and the guide's units name the build's hammer;
# tests/guide_run.py runs every command of the guide in order and compares
# the output it shows (see there for the conventions).  Needs root,
# losetup, /dev/fuse; `systemd-analyze verify` is replaced by `true` when
# systemd-analyze is missing (said so in the output).
# Run alone: BUILD=build-x bash tests/guide_snapshots.sh
. "$(dirname "$0")/guide_lib.sh"

loop_disk sdb 16G && D1=$LOOP_DEV || { echo "FAIL: losetup"; exit 1; }
echo "disk: /dev/sdb=$D1"
if ! command -v systemd-analyze >/dev/null; then
  echo "NOTE: systemd-analyze missing: the guide's verify step runs 'true'"
  echo 'systemd-analyze() { true; }' >> "$work/prelude.sh"
fi
# the instance "data" is the guide's /data: %f of the template
guide_run "$SRC/docs/snapshots-guide.md" \
  "/dev/sdb=$D1" "/data=$work/data" "/usr/bin/hammer=$BUILD/cli/hammer" \
  "/etc/systemd/system=$work/etc/systemd/system" \
  "hammer-snapshot@data.service=hammer-snapshot@$(systemd-escape --path "$work/data" 2>/dev/null || echo data).service"
