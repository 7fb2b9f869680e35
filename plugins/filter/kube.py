# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters on what the Kubernetes API says (logic in module_utils/kube.py, kube_errors.py).

    "{{ msg | matrixk8s.synapse.explain_kube_error(kubeconfig, context, namespace) }}"
                                             why a read of the cluster failed, in one sentence
    "{{ pods | matrixk8s.synapse.unready_pods(revision) }}"
                                             names of the pods that are not Ready
    "{{ pods | matrixk8s.synapse.pod_diagnosis }}"
                                             why each pod is not Ready (reason, exit code, restarts)
    "{{ '1m30s' | matrixk8s.synapse.duration_seconds }}"
                                             a Go duration in seconds, for modules that take seconds

Each filter is the module_utils function of the same name. The name grammar (k8s_name, ...)
is a set of Jinja tests instead: plugins/test/kube.py.
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.module_utils.kube import (
    duration_seconds,
    pod_diagnosis,
    unready_pods,
)
from ansible_collections.matrixk8s.synapse.plugins.module_utils.kube_errors import explain_kube_error
from ansible_collections.matrixk8s.synapse.plugins.plugin_utils.errors import raises_as


class FilterModule:
    def filters(self):
        functions = (explain_kube_error, unready_pods, pod_diagnosis, duration_seconds)
        return {f.__name__: raises_as(AnsibleFilterError, named=True)(f) for f in functions}
