#!/usr/bin/env bash
# Times the real-node tier (`make node-test`) the way a fresh CI machine meets it: empty
# Go module and build caches, an empty binary and image cache (all in a temporary
# directory, so this machine's caches are left alone), no cluster and no node. It prints
# the tier's total and the build times the tools log (each binary, each image), and keeps
# the output in .local/bench/node-cold.log. Only the pip cache is shared with the machine
# (the synapse image's wheels come through it).
#
#   dev/bench/node-cold.sh          # about half an hour on 2 cores
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

scratch=$(mktemp -d)
mkdir -p .local/bench
log=.local/bench/node-cold.log
relink() {
  # .local/bin points into the scratch cache during the run: point it back.
  dev/cluster/build.sh node >/dev/null 2>&1 || true
  # Go marks module cache files read-only.
  chmod -R u+w "$scratch" 2>/dev/null || true
  rm -rf "$scratch"
}
trap relink EXIT

dev/node/down.sh >"$log" 2>&1
dev/cluster/down.sh >>"$log" 2>&1
export GOMODCACHE="$scratch/gomod" GOCACHE="$scratch/gocache" MATRIXK8S_CACHE="$scratch/cache"
start=$(date +%s)
status=PASS
make --no-print-directory node-test >>"$log" 2>&1 || status=FAIL
seconds=$(($(date +%s) - start))
grep -E '^\[build\] done:|^\[images\] built' "$log" || true
grep -E '^=+ .*(passed|failed)' "$log" || true
echo "[bench] cold make node-test: $status in ${seconds}s (log: $log)"
[[ $status == PASS ]]
