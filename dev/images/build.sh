#!/usr/bin/env bash
# Builds the real node's container images offline and imports them into its containerd:
# each dev/images/<name>/ holds rootfs.sh (makes the root filesystem tarball from Debian
# packages, PyPI or Go), image.json (the OCI runtime config: user, env, entrypoint, ports)
# and image.env (IMAGE=name:tag). dev/images/oci_image.py wraps the two into an OCI
# archive, and `ctr images import` loads it.
#
# Why a cache keyed by content: a rootfs takes minutes to build; the archive is kept in
# <image cache>/<name>-<hash of dev/images/<name>/, debian.sh, oci_image.py>.oci.tar, so a warm
# start only imports (or skips an image containerd already holds at the same digest).
#
# Usage: dev/images/build.sh [--no-import] [NAME...]   (default: every dev/images/*/)
# Env:   MATRIXK8S_CACHE (default ~/.cache/matrixk8s); MATRIXK8S_IMAGE_CACHE (default
#        $MATRIXK8S_CACHE/images; dev/bench/demo.sh points it at an empty directory for a cold
#        start); CONTAINERD_ADDRESS (the node's socket)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${MATRIXK8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/matrixk8s}
image_cache=${MATRIXK8S_IMAGE_CACHE:-$cache/images}
address=${CONTAINERD_ADDRESS:-$repo/.local/node/run/containerd.sock}
ctr="$repo/.local/bin/ctr"
log() { printf '[images] %s\n' "$*" >&2; }
die() { printf '[images] ERROR: %s\n' "$*" >&2; exit 1; }

import=1
if [[ ${1:-} == --no-import ]]; then import=0; shift; fi
names=("$@")
if ((${#names[@]} == 0)); then
  for d in "$repo"/dev/images/*/; do [[ -f $d/image.env ]] && names+=("$(basename "$d")"); done
fi
((EUID == 0)) || die "building root filesystems needs root (mmdebstrap, chroot)"
mkdir -p "$image_cache"
exec 8>"$image_cache/.lock"
flock 8

# content_hash NAME: what the image is made of: its recipe, the shared recipe helpers, the
# OCI writer (not this driver: editing it rebuilds nothing), and the files or directories
# outside dev/images that dev/images/NAME/inputs lists, one per line (a binary's version
# in dev/cluster/versions.env, our own sources that binary is built from).
content_hash() {
  local inputs=()
  [[ -f $repo/dev/images/$1/inputs ]] && mapfile -t inputs < <(grep -vE '^\s*(#|$)' "$repo/dev/images/$1/inputs")
  (cd "$repo" && find "dev/images/$1" dev/images/debian.sh dev/images/oci_image.py \
    "${inputs[@]}" -type f ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16
}

for name in "${names[@]}"; do
  dir="$repo/dev/images/$name"
  [[ -f $dir/image.env && -f $dir/image.json && -x $dir/rootfs.sh ]] ||
    die "dev/images/$name needs image.env, image.json and an executable rootfs.sh"
  IMAGE=
  # shellcheck source=/dev/null
  source "$dir/image.env"
  [[ -n $IMAGE ]] || die "dev/images/$name/image.env does not set IMAGE"
  archive="$image_cache/$name-$(content_hash "$name").oci.tar"
  if [[ ! -f $archive ]]; then
    started=$SECONDS
    log "building $IMAGE (rootfs from dev/images/$name/rootfs.sh)…"
    rootfs="$archive.rootfs.tar"
    # Leftovers of an interrupted or failed build of any version of this image.
    rm -f "$image_cache/$name-"*.oci.tar.rootfs.tar "$image_cache/$name-"*.oci.tar.tmp
    "$dir/rootfs.sh" "$rootfs"
    python3 "$here/oci_image.py" "$rootfs" "$dir/image.json" "$IMAGE" "$archive.tmp" >"$archive.digest"
    rm -f "$rootfs"
    mv "$archive.tmp" "$archive"
    log "built $IMAGE in $((SECONDS - started))s: $archive ($(du -h "$archive" | cut -f1))"
  fi
  if ((import)); then
    [[ -S $address ]] || die "no containerd at $address; start the node first (MATRIXK8S_REAL_NODE=1 dev/cluster/up.sh)"
    want=$(<"$archive.digest")
    have=$("$ctr" -a "$address" -n k8s.io images ls "name==$IMAGE" 2>/dev/null | awk 'NR > 1 { print $3 }')
    if [[ $have != "$want" ]]; then
      log "importing $IMAGE"
      "$ctr" -a "$address" -n k8s.io images import --platform linux/amd64 "$archive" >/dev/null
    fi
  fi
done
