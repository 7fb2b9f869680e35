#!/usr/bin/env bash
# Times `.ci/run` the way CI meets it on a fresh machine: a clean clone of HEAD, and a new
# HOME, so the Go module and build caches, the binary and image caches (~/.cache/matrixk8s),
# pip's cache and kwok's clusters all start empty. Debian packages are the machine's own (apt
# state is system-wide; their install time is not in the figure). Stop this checkout's real
# node first (dev/node/down.sh): there is one per machine (its bridge, its iptables rules).
#
#   dev/bench/ci-cold.sh        # about an hour on 2 cores
#
# Prints the wall time and the exit code; the whole log is kept in .local/bench/ci-cold.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

scratch=$(mktemp -d /tmp/matrixk8s-ci-cold.XXXXXX)
mkdir -p .local/bench
log=$PWD/.local/bench/ci-cold.log
git clone --quiet --no-hardlinks . "$scratch/checkout"
mkdir "$scratch/home"

start=$(date +%s)
set +e
(cd "$scratch/checkout" && env HOME="$scratch/home" .ci/run) >"$log" 2>&1
rc=$?
set -e
elapsed=$(($(date +%s) - start))
printf '[bench] .ci/run cold: %dm%02ds, exit %d (log: %s)\n' $((elapsed / 60)) $((elapsed % 60)) "$rc" "$log"
# The clone's node and cluster, then the scratch space (Go's module cache is read-only).
(cd "$scratch/checkout" && env HOME="$scratch/home" dev/node/down.sh >/dev/null 2>&1) || true
(cd "$scratch/checkout" && env HOME="$scratch/home" dev/cluster/down.sh >/dev/null 2>&1) || true
chmod -R u+w "$scratch" && rm -rf "$scratch"
exit "$rc"
