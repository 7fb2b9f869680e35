# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters on Synapse's own configuration check (logic in module_utils/synapse_config_check.py).

"{{ log | matrixk8s.synapse.synapse_config_complaint(homeserver_yaml, secrets=[...]) }}"
               why Synapse refused homeserver.yaml, with every value of it masked
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_config_check import (
    synapse_config_complaint,
)
from ansible_collections.matrixk8s.synapse.plugins.plugin_utils.errors import raises_as


class FilterModule:
    def filters(self):
        return {
            "synapse_config_complaint": raises_as(AnsibleFilterError, named=True)(synapse_config_complaint)
        }
