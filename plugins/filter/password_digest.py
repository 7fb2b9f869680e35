# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A keyed digest of a password (logic in module_utils/password_digest.py).

"{{ password | matrixk8s.synapse.password_digest(key, '@admin:example.com') }}"
                                'hmac-sha256:<hex>': changes when the password does
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.module_utils.password_digest import password_digest
from ansible_collections.matrixk8s.synapse.plugins.plugin_utils.errors import raises_as


class FilterModule:
    def filters(self):
        return {"password_digest": raises_as(AnsibleFilterError, named=True)(password_digest)}
