# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for Synapse signing keys.

    "{{ 'ed25519' | matrixk8s.synapse.signing_key_generate }}"       new key line
    "{{ line | matrixk8s.synapse.signing_key_validate }}"            canonical line or error
    "{{ line | matrixk8s.synapse.signing_key_verify_key }}"          public key, unpadded base64
    "{{ line | matrixk8s.synapse.signing_key_id }}"                  ed25519:a_XXXX
    "{{ line | matrixk8s.synapse.signing_key_old_entry(ms) }}"       old_signing_keys entry

signing_key_generate returns a new key every time it is evaluated: store its result once
(set_fact with no_log) and write that to the Secret. The logic lives in
module_utils/signing_key.py.
"""

import functools

from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.module_utils import signing_key


def _as_filter_error(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except signing_key.SigningKeyError as exc:
            raise AnsibleFilterError(str(exc)) from None

    return wrapper


class FilterModule:
    def filters(self):
        return {
            "signing_key_generate": _as_filter_error(signing_key.generate),
            "signing_key_validate": _as_filter_error(signing_key.normalise),
            "signing_key_verify_key": _as_filter_error(signing_key.verify_key),
            "signing_key_id": _as_filter_error(signing_key.key_id),
            "signing_key_old_entry": _as_filter_error(signing_key.old_signing_keys_entry),
        }
