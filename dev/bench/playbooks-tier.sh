#!/usr/bin/env bash
# Times the playbooks tier as `make playbooks` runs it (two xdist workers, --dist loadfile
# refined by tests/playbooks/conftest.py), with every ansible-playbook process logged by
# dev/bench/playbook_runs.py, pytest's --durations=0 and a junit file; then prints the
# per-module table (tests, seconds, runs by kind). The machine's load averages before and
# after go with it: on a shared machine the seconds vary, the run counts do not.
# Results in .local/bench/playbooks-tier/ (log, runs.jsonl, junit.xml, table.md).
#
#   make cluster && dev/bench/playbooks-tier.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

out=.local/bench/playbooks-tier
rm -rf "$out" && mkdir -p "$out"
echo "before: $(date -u +%FT%TZ) $(uptime)" | tee "$out/load.txt"
start=$(date +%s)
status=0
PLAYBOOK_RUNS_LOG="$PWD/$out/runs.jsonl" PYTHONPATH="$PWD/dev/bench${PYTHONPATH:+:$PYTHONPATH}" \
  MATRIXK8S_REQUIRE_CLUSTER=1 .venv/bin/pytest -p no:cacheprovider -p playbook_runs \
  -n 2 --dist loadfile tests/playbooks --durations=0 --junitxml="$out/junit.xml" \
  >"$out/log" 2>&1 || status=$?
echo "after: $(date -u +%FT%TZ) $(uptime); wall $(($(date +%s) - start)) s; pytest exit $status" |
  tee -a "$out/load.txt"
grep -E '^=+ .*(passed|failed).* in ' "$out/log" | tail -1
.venv/bin/python dev/bench/playbook_runs.py "$out/runs.jsonl" "$out/junit.xml" | tee "$out/table.md"
exit "$status"
