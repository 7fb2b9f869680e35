#!/usr/bin/env bash
# Times the real-server suite (tests/realserver): runs it RUNS times (default 3) and prints
# the median wall time of the whole `pytest tests/realserver` command and the median time
# Synapse took from process start to /health OK. Each run's numbers come from
# .local/realserver/last-run.json, which the suite writes; all runs are kept in
# .local/realserver/bench.json.
#
#   dev/bench/realserver.sh            # 3 runs
#   RUNS=5 dev/bench/realserver.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

runs=${RUNS:-3}
python=.venv/bin/python
last=.local/realserver/last-run.json
results=()
for ((i = 1; i <= runs; i++)); do
  rm -f "$last"
  start=$(date +%s.%N)
  if ! .venv/bin/pytest -p no:cacheprovider -q tests/realserver >".local/realserver-bench-run.log" 2>&1; then
    tail -30 .local/realserver-bench-run.log >&2
    echo "run $i failed (log: .local/realserver-bench-run.log)" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  run=$("$python" -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["command_wall_seconds"] = round(float(sys.argv[3]) - float(sys.argv[2]), 3)
print(json.dumps(d))' "$last" "$start" "$end")
  echo "run $i: $run"
  results+=("$run")
done

summary=$(cat <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in sys.stdin]
with open(".local/realserver/bench.json", "w") as out:
    json.dump(runs, out, indent=2)
def median(key):
    return statistics.median(r[key] for r in runs)
sources = sorted({r["source"] for r in runs})
print(f"runs: {len(runs)}, artifacts from: {', '.join(sources)}")
print(f"median suite wall time (pytest command): {median('command_wall_seconds'):.2f} s")
print(f"median suite wall time (inside pytest):  {median('suite_wall_seconds'):.2f} s")
print(f"median Synapse start to /health OK:      {median('synapse_start_to_health_seconds'):.2f} s")
PY
)
printf '%s\n' "${results[@]}" | "$python" -c "$summary"
