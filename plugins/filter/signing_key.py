# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for Synapse signing keys (logic in module_utils/signing_key.py).

    "{{ line | matrixk8s.synapse.signing_key_canonical(name='signing_key_value') }}"
                                                       canonical line, or an error naming name
    "{{ line | matrixk8s.synapse.signing_key_verify_key }}"   public key, unpadded base64
    "{{ line | matrixk8s.synapse.signing_key_id }}"           ed25519:a_XXXX
    "{{ line | matrixk8s.synapse.signing_key_problem(name='x') }}"  '' or what is wrong (no raise)
    "{{ line | matrixk8s.synapse.signing_key_old_entry(ms) }}" old_signing_keys entry

A new key is not a filter: lookup('matrixk8s.synapse.signing_key') (plugins/lookup/), because
it is a different value on every evaluation. Each filter is the module_utils function of the
same name; errors name the variable and never quote the key (plugin_utils/errors.py).
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.module_utils.signing_key import (
    signing_key_canonical,
    signing_key_id,
    signing_key_old_entry,
    signing_key_problem,
    signing_key_verify_key,
)
from ansible_collections.matrixk8s.synapse.plugins.plugin_utils.errors import raises_as


class FilterModule:
    def filters(self):
        functions = (
            signing_key_canonical,
            signing_key_problem,
            signing_key_verify_key,
            signing_key_id,
            signing_key_old_entry,
        )
        return {f.__name__: raises_as(AnsibleFilterError)(f) for f in functions}
