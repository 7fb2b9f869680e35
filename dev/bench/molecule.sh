#!/usr/bin/env bash
# Times `molecule test -s local` (the `make molecule` target) with warm binaries: RUNS full
# sequences (default 1: one takes minutes), printing each run's wall time and the verify
# step's own pytest time, then the median. Results: .local/bench/molecule.json; the log of
# the last run: .local/bench/molecule-last.log.
#
#   dev/bench/molecule.sh
#   RUNS=3 dev/bench/molecule.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

runs=${RUNS:-1}
mkdir -p .local/bench
log=.local/bench/molecule-last.log
dev/cluster/build.sh >/dev/null # warm binaries: the figure is the scenario, not a build
walls=()
for ((i = 1; i <= runs; i++)); do
  start=$(date +%s.%N)
  if ! make --no-print-directory molecule >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "run $i failed (log: $log)" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  # pytest's own summary line of the verify step, e.g. "17 passed in 512.34s (0:08:32)".
  verify=$(grep -Eo '[0-9]+ passed[^=]* in [0-9.]+s' "$log" | tail -1 || true)
  echo "run $i: ${wall}s wall; verify: ${verify:-?}"
  walls+=("$wall")
done
median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
printf '{"command": "molecule test -s local", "runs": %d, "wall_seconds": [%s], "median_wall_seconds": %s}\n' \
  "$runs" "$(IFS=,; echo "${walls[*]}")" "$median" | tee .local/bench/molecule.json
