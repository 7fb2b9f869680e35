#!/usr/bin/env bash
# Where a deploy's time goes: purges the namespace on the local cluster (untimed), then
# runs site.yml once with Ansible's profile_tasks callback and prints the slowest tasks.
# With --second, the first run is untimed and the profile is of an immediate second run
# (nothing to change: what every converged re-run, and every test that re-runs, pays).
# Complements dev/bench/deploy.sh, which gives the totals against plain Helm.
#
#   dev/bench/deploy-profile.sh [--second]   (make cluster first; purges namespace matrix)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

.venv/bin/ansible-playbook playbooks/uninstall.yml -i inventories/local -e purge=true >/dev/null
.venv/bin/python - <<'PY'
import sys

sys.path.insert(0, "dev/cluster")
from kubernetes import client, config
from volumes import return_released_volumes

return_released_volumes(client.CoreV1Api(config.new_client_from_config(config_file=".local/kubeconfig")))
PY
if [[ ${1:-} == --second ]]; then
  .venv/bin/ansible-playbook playbooks/site.yml -i inventories/local >/dev/null
fi
ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=${LIMIT:-15} \
  .venv/bin/ansible-playbook playbooks/site.yml -i inventories/local | sed -n '/^PLAY RECAP/,$p'
