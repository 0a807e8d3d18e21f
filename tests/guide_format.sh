#!/usr/bin/env bash
# guide_format.sh: docs/formatting-guide.md end to end.  Three sparse 16 GB
# loop devices stand for /dev/sdb, /dev/sdc and /dev/sdd, and the guide's
# folders are under a temporary one; tests/guide_run.py runs every command
# of the guide in order and compares the output it shows (see there for
# the conventions).  Needs root, losetup, /dev/fuse.
# Run alone: BUILD=build-x bash tests/guide_format.sh
. "$(dirname "$0")/guide_lib.sh"

loop_disk sdb 16G && D1=$LOOP_DEV && loop_disk sdc 16G && D2=$LOOP_DEV &&
  loop_disk sdd 16G && D3=$LOOP_DEV || { echo "FAIL: losetup"; exit 1; }
echo "disks: /dev/sdb=$D1 /dev/sdc=$D2 /dev/sdd=$D3"
mkdir -p "$work/var/tmp" "$work/mnt"
guide_run "$SRC/docs/formatting-guide.md" \
  "/dev/sdb=$D1" "/dev/sdc=$D2" "/dev/sdd=$D3" \
  "/data=$work/data" "/multi=$work/multi" "/mnt=$work/mnt" "/var/tmp=$work/var/tmp"
