#!/usr/bin/env bash
# refimg.sh NAME: print the path(s) of the decompressed reference image(s) of
# ../shared/reference/NAME (colon-joined for multi-volume sets), decompressing
# them once into $BUILD/refimg/.  Exits 77 (skip) when ../shared is absent.
# Images are never copied into the source tree.
set -euo pipefail
name=$1
shared=${HAMMER_SHARED:-$(dirname "$0")/../../shared}
dir=$shared/reference/$name
[ -d "$dir" ] || { echo "refimg: $dir absent, skipping" >&2; exit 77; }
out=${BUILD:-/tmp}/refimg/$name
mkdir -p "$out"
paths=()
for xzf in $(ls "$dir"/*.img.xz | sort); do
  img=$out/$(basename "${xzf%.xz}")
  if [ ! -s "$img" ]; then
    # decompress to a temp name, then rename: concurrent callers never see a half file
    xz -dc "$xzf" | cp --sparse=always /dev/stdin "$img.tmp.$$"
    mv -f "$img.tmp.$$" "$img"
  fi
  paths+=("$img")
done
(IFS=:; echo "${paths[*]}")
