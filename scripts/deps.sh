#!/usr/bin/env bash
# deps.sh: install the Debian 12 packages this project needs, only those
# missing.  Needs root (or sudo) when something is missing.
set -euo pipefail
pkgs=(gcc clang libclang-rt-14-dev meson ninja-build pkg-config python3
      uuid-dev libcmocka-dev libfuse3-dev fuse3 valgrind lcov liblmdb-dev
      xz-utils afl++ openssh-server btrfs-progs fuse2fs rsync cryptsetup-bin
      gnuplot-nox)
pkgs+=(mandoc)	# tests/man_lint.sh: mandoc -T lint
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
