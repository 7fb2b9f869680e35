# Shared by the rootfs.sh of images that hold one Go binary from dev/cluster/build.sh
# (sourced). The binary comes from .local/bin/, so it must have been built first
# (dev/cluster/build.sh node).
# shellcheck shell=bash

# static_binary_rootfs OUT_TAR IMAGE_ENV BINARY VERSION_ARGS...: a tarball holding only
# /BINARY, after checking that `BINARY VERSION_ARGS` prints the tag of IMAGE_ENV's IMAGE
# (a version bump in dev/cluster/versions.env without one in image.env fails here).
static_binary_rootfs() {
  local out=$1 image_env=$2 name=$3 IMAGE
  shift 3
  local binary
  binary=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/../../.local/bin/$name") ||
    { echo "no .local/bin/$name: run dev/cluster/build.sh node" >&2; return 1; }
  [[ -x $binary ]] || { echo "no .local/bin/$name: run dev/cluster/build.sh node" >&2; return 1; }
  # shellcheck source=/dev/null
  source "$image_env"
  "$binary" "$@" 2>&1 | grep -qwF -- "${IMAGE##*:}" ||
    { echo "$binary is not version ${IMAGE##*:} ($image_env): $("$binary" "$@" 2>&1 | head -n 3)" >&2; return 1; }
  local root
  root=$(mktemp -d)
  install -m 0755 "$binary" "$root/$name"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$out" "$name"
  rm -rf "$root"
}
