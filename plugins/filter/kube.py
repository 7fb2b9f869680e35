# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters on what the Kubernetes API says (logic in module_utils/kube_errors.py).

kube_error: why a read of the cluster failed, in one sentence.
kube_unready_pods: the names of the pods that are not Ready.
duration_seconds: a Go duration (10m, 1m30s) in seconds, for modules that take seconds.
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.module_utils.kube_errors import (
    duration_seconds,
    explain,
    unready_pods,
)


def kube_error(message, kubeconfig=None, context=None, namespace=None):
    return explain(message, kubeconfig=kubeconfig, context=context, namespace=namespace)


def _duration_seconds(duration):
    try:
        return duration_seconds(duration)
    except ValueError as exc:
        raise AnsibleFilterError(f"duration_seconds: {exc}") from None


class FilterModule:
    def filters(self):
        return {
            "kube_error": kube_error,
            "kube_unready_pods": unready_pods,
            "duration_seconds": _duration_seconds,
        }
