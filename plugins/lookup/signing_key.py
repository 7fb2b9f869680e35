# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A new Synapse signing key (logic in module_utils/signing_key.py).

A lookup, not a filter: it returns a different value on every evaluation, which is what
Ansible expects of a lookup and would surprise in a filter. Store the result once
(set_fact with no_log) and write that to the Secret.
"""

DOCUMENTATION = r"""
name: signing_key
author: matrixk8s.synapse contributors (@matrixk8s)
version_added: 0.1.0
short_description: Generate a new Synapse signing key line
description:
  - Returns a new Matrix signing key as Synapse writes it in its signing key file,
    C(ed25519 a_XXXX <unpadded base64 seed>), with a random key version C(a_) followed by
    four letters or digits, and a 32-byte seed from the operating system's random source.
  - Every evaluation returns a different key. Evaluate it once, in a C(set_fact) task with
    O(ignore:no_log=true), and keep that result; do not put the lookup in a variable that is
    templated more than once.
options:
  _terms:
    description:
      - The key algorithm. Matrix defines only C(ed25519), which is the default.
      - One key is returned per term.
    type: list
    elements: str
    required: false
  key_id:
    description:
      - The key version to use instead of a random C(a_XXXX), for example C(a_2025).
      - Letters, digits and underscores only.
    type: str
    required: false
notes:
  - The key is secret material. Mark every task that holds it with O(ignore:no_log=true).
seealso:
  - name: Synapse signing keys
    description: How Synapse reads its signing key file and old_signing_keys.
    link: https://element-hq.github.io/synapse/latest/usage/configuration/config_documentation.html#signing_key_path
"""

EXAMPLES = r"""
- name: Create the signing key once
  ansible.builtin.set_fact:
    _signing_key_line: "{{ lookup('matrixk8s.synapse.signing_key') }}"
  no_log: true

- name: Create a key with a chosen version
  ansible.builtin.set_fact:
    _signing_key_line: "{{ lookup('matrixk8s.synapse.signing_key', 'ed25519', key_id='a_2025') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - One key line per term (one when no term is given), C(ed25519 <version> <seed>), where
      the seed is 43 characters of unpadded base64.
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.matrixk8s.synapse.plugins.module_utils.signing_key import (
    ALGORITHM,
    signing_key_generate,
)
from ansible_collections.matrixk8s.synapse.plugins.plugin_utils.errors import raises_as


class LookupModule(LookupBase):
    @raises_as(AnsibleLookupError)
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        key_id = self.get_option("key_id")
        return [signing_key_generate(algorithm, key_id=key_id) for algorithm in terms or [ALGORITHM]]
