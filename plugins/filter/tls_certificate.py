# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the TLS certificates the roles are given (logic in module_utils/tls_certificate.py).

    "{{ read | matrixk8s.synapse.tls_secret_problem(host, secret_name, name='x') }}"
                                   '' or why the Ingress's TLS Secret cannot serve host
    "{{ read | matrixk8s.synapse.federation_ca_problem(ca, name='x') }}"
                                   '' or why the CA ConfigMap/Secret cannot be trusted
    "{{ pem | matrixk8s.synapse.tls_certificate_hosts }}"   DNS names a certificate covers

Each filter is the module_utils function of the same name; no message quotes key material.
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.module_utils.tls_certificate import (
    federation_ca_problem,
    tls_certificate_hosts,
    tls_secret_problem,
)
from ansible_collections.matrixk8s.synapse.plugins.plugin_utils.errors import raises_as


class FilterModule:
    def filters(self):
        functions = (tls_secret_problem, federation_ca_problem, tls_certificate_hosts)
        return {f.__name__: raises_as(AnsibleFilterError)(f) for f in functions}
