# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Misspelt role variables (logic in module_utils/role_variables.py).

"{{ hostvars[inventory_hostname].keys() | matrixk8s.synapse.unknown_role_variables('synapse_', known) }}"
                                    ["synapse_homserver (did you mean synapse_homeserver?)"]
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.module_utils.role_variables import unknown_role_variables
from ansible_collections.matrixk8s.synapse.plugins.plugin_utils.errors import raises_as


class FilterModule:
    def filters(self):
        return {"unknown_role_variables": raises_as(AnsibleFilterError, named=True)(unknown_role_variables)}
