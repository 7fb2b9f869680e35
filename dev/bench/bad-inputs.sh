#!/usr/bin/env bash
# Counts the distinct bad inputs the playbook tests try (issue 12 asks for the figure) and,
# by running those tests, how many are refused before any cluster change. Each selected test
# is one bad input, and each asserts the refusal happened before anything was written:
#   - test_preflight.py: the run fails in play 1 with a kubeconfig whose API server refuses
#     connections, so nothing can have reached a cluster;
#   - the *_local.py ones: the run fails in play 1 on a converged deployment and every
#     object's resourceVersion is unchanged afterwards.
# `--collect` only counts (no cluster needed). The local ones need `make cluster`.
#
#   dev/bench/bad-inputs.sh [--collect]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

selection=(
  "tests/playbooks/test_preflight.py::test_mistake_fails_in_validation"
  "tests/playbooks/test_preflight.py::test_chart_values_out_of_schema_fail_in_validation"
  "tests/playbooks/test_preflight.py::test_misspelt_role_variable_is_refused_with_did_you_mean"
  "tests/playbooks/test_server_names_local.py::test_undeployable_name_is_refused_in_play_1_changing_nothing"
  "tests/playbooks/test_config_validation_local.py::test_bad_configuration_fails_in_play_1_and_changes_nothing"
  "tests/playbooks/test_signing_key_leaks_local.py::test_swapped_signing_key_value_is_refused_without_printing_it"
)
pytest=(.venv/bin/pytest -p no:cacheprovider -q)

tried=$("${pytest[@]}" --collect-only "${selection[@]}" | grep -c '::')
echo "bad inputs tried: $tried"
[[ ${1:-} == --collect ]] && exit 0

mkdir -p .local/bench
log=.local/bench/bad-inputs.log
set +e
MATRIXK8S_REQUIRE_CLUSTER=1 "${pytest[@]}" -rA "${selection[@]}" >"$log" 2>&1
set -e
refused=$(grep -c '^PASSED ' "$log" || true)
echo "refused before any cluster change: $refused of $tried (log: $log)"
[[ $refused == "$tried" ]]
