# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: chart_digest
author: matrixk8s.synapse contributors
short_description: A digest of a Helm chart directory
description:
  - Returns C(sha256:<hex>) over the names and contents of every file of each chart
    directory given (hidden files and editor backups excluded).
  - The roles pass it as the chart value C(chartDigest), so a changed template changes the
    release's values and the release is upgraded even when the chart version stayed.
options:
  _terms:
    description: Paths of chart directories (each holding a Chart.yaml).
    required: true
    type: list
    elements: path
"""

EXAMPLES = r"""
- name: Show the digest of the synapse chart
  ansible.builtin.debug:
    msg: "{{ lookup('matrixk8s.synapse.chart_digest', role_path ~ '/../../charts/synapse') }}"
"""

RETURN = r"""
_raw:
  description: One C(sha256:<hex>) string per chart directory.
  type: list
  elements: str
"""

# Ansible reads the documentation above before the imports.
from ansible.errors import AnsibleLookupError  # noqa: E402
from ansible.plugins.lookup import LookupBase  # noqa: E402

from ansible_collections.matrixk8s.synapse.plugins.module_utils.helm_release import (  # noqa: E402
    HelmReleaseError,
    chart_digest,
)


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        try:
            return [chart_digest(str(term)) for term in terms]
        except HelmReleaseError as exc:
            raise AnsibleLookupError(f"chart_digest: {exc}") from None
