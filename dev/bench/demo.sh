#!/usr/bin/env bash
# Times `make demo` on the real node (MATRIXK8S_REAL_NODE=1), from three starting points:
#   cold     no cluster, no node, and an empty image cache (every image built from Debian
#            packages and PyPI; the Go-built binaries come from their cache: their own
#            cold build is dev/cluster/build.sh's, about 12 minutes, measured there)
#   restart  no cluster and no node, images cached (a machine reboot, a new checkout)
#   rerun    everything up: `make demo` again (site.yml converges to changed=0)
# Each run must also leave Synapse answering /health through its Service (the demo's own
# summary checks it). Results: printed, and kept in .local/bench/demo.json; each phase's
# output (with the per-image and per-binary build times) in .local/bench/demo-<phase>.log.
#
#   dev/bench/demo.sh              # all three
#   PHASES="restart rerun" dev/bench/demo.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

phases=${PHASES:-cold restart rerun}
mkdir -p .local/bench
results=.local/bench/demo.json
echo "{" >"$results.tmp"
sep=""

from_nothing() {
  dev/node/down.sh >>"$log" 2>&1
  dev/cluster/down.sh >>"$log" 2>&1
}

for phase in $phases; do
  log=.local/bench/demo-$phase.log
  : >"$log"
  env=(MATRIXK8S_REAL_NODE=1)
  case $phase in
    cold)
      from_nothing
      empty=$(mktemp -d)
      env+=(MATRIXK8S_IMAGE_CACHE="$empty")
      ;;
    restart) from_nothing ;;
    rerun) ;;
    *) echo "unknown phase $phase (cold, restart, rerun)" >&2; exit 2 ;;
  esac
  echo "[bench] $phase: make demo…" >&2
  start=$(date +%s%N)
  if ! env "${env[@]}" make --no-print-directory demo >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "[bench] $phase failed (log: $log)" >&2
    exit 1
  fi
  ms=$((($(date +%s%N) - start) / 1000000))
  seconds=$((ms / 1000)).$(((ms % 1000) / 100))
  [[ $phase == cold ]] && rm -rf "$empty"
  printf '[bench] %-8s %6s s\n' "$phase" "$seconds"
  printf '%s  "%s_seconds": %s' "$sep" "$phase" "$seconds" >>"$results.tmp"
  sep=$',\n'
done
printf '\n}\n' >>"$results.tmp"
mv "$results.tmp" "$results"
cat "$results"
