# guide_lib.sh: sourced by tests/guide_format.sh and tests/guide_snapshots.sh
# (not a test itself).  Gives $work (removed at exit, after unmounting what
# is mounted under it and detaching the loop devices we attached), the
# build's programs first in PATH, loop_disk NAME SIZE (a sparse image on a
# loop device, in $LOOP_DEV), and guide_run GUIDE OLD=NEW... (tests/guide_run.py
# with a prelude whose mount() does what mount(8) would with the guide's
# fstab and type fuse.hammer, using the build's mount.fuse.hammer).
# Needs root, losetup and /dev/fuse (exit 77 otherwise).
set -uo pipefail
export LC_ALL=C
: "${BUILD:?set BUILD to the meson build dir}"
BUILD=$(cd "$BUILD" && pwd)
SRC=${SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
HAMMER=$BUILD/cli/hammer
HELPER=$BUILD/fuse/mount.fuse.hammer
[ -e "$BUILD/fuse/hammer-fuse" ] || { echo "SKIP: built without FUSE (libfuse3 not found)"; exit 77; }
for p in "$HAMMER" "$BUILD/cli/newfs_hammer" "$BUILD/cli/undo" "$HELPER"; do
  [ -x "$p" ] || { echo "FAIL: $p not built"; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (loop devices, mounts)"; exit 77; }
command -v losetup >/dev/null || { echo "SKIP: losetup missing"; exit 77; }
if [ ! -c /dev/fuse ] || ! (exec 3<>/dev/fuse) 2>/dev/null; then
  echo "SKIP: /dev/fuse missing or unusable"; exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
export PATH=$BUILD/cli:$BUILD/fuse:$PATH

work=$(mktemp -d "${TMPDIR:-/tmp}/guide.XXXXXX")
chmod 755 "$work"
LOOPS=()
mounts_under_work() { awk -v w="$work/" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r; }
guide_cleanup() {
  local mp i
  set +e
  for i in 1 2 3; do
    for mp in $(mounts_under_work); do umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null; done
    [ -z "$(mounts_under_work)" ] && break
    sleep 1
  done
  for i in "${LOOPS[@]}"; do losetup -d "$i" 2>/dev/null; done
  if [ -z "$(mounts_under_work)" ]; then rm -rf "$work"
  else echo "cleanup: still mounted under $work, left in place:"; mounts_under_work; fi
}
trap guide_cleanup EXIT

# loop_disk NAME SIZE: a sparse image on a loop device, left in $LOOP_DEV
# (not in a subshell: the cleanup must know the device)
loop_disk() {
  truncate -s "$2" "$work/$1.img"
  LOOP_DEV=$(losetup -f --show "$work/$1.img") || return 1
  LOOPS+=("$LOOP_DEV")
}

# the prelude the guide's shell sources
cat > "$work/prelude.sh" <<EOF
FSTAB=$work/fstab
HELPER=$HELPER
EOF
cat >> "$work/prelude.sh" <<'EOF'
touch "$FSTAB"
# mount as mount(8) would: a lone DIR from the guide's fstab; -t fuse.hammer
# through the build's helper (/sbin/mount.fuse.hammer may not be ours);
# anything else to mount(8)
mount() {
  if [ $# -eq 1 ] && [ "${1#-}" = "$1" ]; then
    local spec mp type opts rest
    read -r spec mp type opts rest < <(awk -v d="$1" '$2 == d' "$FSTAB")
    [ -n "${spec:-}" ] || { echo "mount: $1: not in fstab" >&2; return 1; }
    if [ "$type" = fuse.hammer ]; then "$HELPER" "$spec" "$mp" -o "$opts"
    else command mount -T "$FSTAB" "$1"; fi
    return
  fi
  local a fuse=0 args=()
  for a in "$@"; do [ "$a" = fuse.hammer ] && fuse=1; done
  if [ $fuse = 1 ]; then
    local o=() pos=() skip=
    while [ $# -gt 0 ]; do
      case $1 in
        -t) shift ;;
        -o) o=(-o "$2"); shift ;;
        *) pos+=("$1") ;;
      esac
      shift
    done
    "$HELPER" "${pos[@]}" "${o[@]}"
    return
  fi
  command mount "$@"
}
EOF

guide_run() {
  local guide=$1; shift
  python3 "$SRC/tests/guide_run.py" "$guide" "$work" "$work/prelude.sh" "$@"
}
