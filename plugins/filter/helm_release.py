# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the roles' skip-when-current check (logic in module_utils/helm_release.py).

    "{{ secrets | matrixk8s.synapse.helm_release_state }}"   newest revision of a release,
                                                           read from its storage Secrets
    "{{ path | matrixk8s.synapse.chart_digest }}"           'sha256:<hex>' over a chart directory

The roles pass chart_digest as the chart value chartDigest, so a changed template changes
the release's values. Each filter is the module_utils function of the same name; errors
start with the filter's name (plugin_utils/errors.py).
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.module_utils.helm_release import (
    chart_digest,
    helm_release_state,
)
from ansible_collections.matrixk8s.synapse.plugins.plugin_utils.errors import raises_as


class FilterModule:
    def filters(self):
        functions = (helm_release_state, chart_digest)
        return {f.__name__: raises_as(AnsibleFilterError, named=True)(f) for f in functions}
