# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The chart values a role would pass, checked offline (logic in module_utils/chart_values.py).

    "{{ values | matrixk8s.synapse.checked_chart_values(chart_path,
                 variables={'database.port': 'synapse_database_port'},
                 overrides={'synapse_chart_values': synapse_chart_values}) }}"
                                      values, or an error naming the variable behind a bad value

The filter is the module_utils function of the same name; its message already names the
variable (plugin_utils/errors.py passes it on alone, without the values).
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.module_utils.chart_values import checked_chart_values
from ansible_collections.matrixk8s.synapse.plugins.plugin_utils.errors import raises_as


class FilterModule:
    def filters(self):
        return {"checked_chart_values": raises_as(AnsibleFilterError)(checked_chart_values)}
