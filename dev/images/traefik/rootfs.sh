#!/usr/bin/env bash
# Root filesystem of matrixk8s.local/traefik: one static binary, /traefik, the one
# dev/cluster/build.sh built (.local/bin/traefik), checked to be the tag's version.
# Usage: rootfs.sh OUT_TAR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../static_binary.sh
source "$here/../static_binary.sh"
static_binary_rootfs "$1" "$here/image.env" traefik version
