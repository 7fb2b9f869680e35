# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja tests for what Kubernetes and Helm accept (logic in module_utils/kube.py).

    "{{ matrix_namespace is matrixk8s.synapse.k8s_name }}"           DNS label (63 chars max)
    "{{ secret_name is matrixk8s.synapse.k8s_subdomain }}"           DNS subdomain (253 max)
    "{{ storage_size is matrixk8s.synapse.k8s_quantity }}"           10Gi, 500M, 1.5
    "{{ wait_timeout is matrixk8s.synapse.go_duration }}"            10m, 1m30s, 500ms
    "{{ repository is matrixk8s.synapse.image_repository }}"         docker.io/library/postgres
    "{{ tag is matrixk8s.synapse.image_tag }}"                       v1.163.2, 17

Tests rather than regexes in each role's vars, so every role checks names with one grammar.
Each is true or false, never an error, and false for anything but a string. The documentation
of each test is in the file of its name beside this one (a file holding several tests cannot
carry one DOCUMENTATION for all of them).
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.module_utils.kube import (
    go_duration,
    image_repository,
    image_tag,
    k8s_name,
    k8s_quantity,
    k8s_subdomain,
)
from ansible_collections.matrixk8s.synapse.plugins.plugin_utils.errors import raises_as


class TestModule:
    def tests(self):
        functions = (k8s_name, k8s_subdomain, k8s_quantity, go_duration, image_repository, image_tag)
        return {f.__name__: raises_as(AnsibleFilterError)(f) for f in functions}
