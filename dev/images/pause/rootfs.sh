#!/usr/bin/env bash
# Root filesystem of matrixk8s.local/pause: one static binary, /pause, built from pause.go.
# Usage: rootfs.sh OUT_TAR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
(cd "$root" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath GO111MODULE=off \
  go build -ldflags "-s -w" -o "$root/pause" "$here/pause.go")
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$1" pause
