# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Synapse's email section from synapse_email (logic in module_utils/email_config.py).

"{{ synapse_email | matrixk8s.synapse.email_section(smtp_pass=password) }}"
                     the `email:` mapping of homeserver.yaml, {} when email is off
"{{ synapse_email | matrixk8s.synapse.email_password_reference }}"
                     {secret, key} of the SMTP password's Secret, {} without one
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.module_utils.email_config import (
    email_password_reference,
    email_section,
)
from ansible_collections.matrixk8s.synapse.plugins.plugin_utils.errors import raises_as


class FilterModule:
    def filters(self):
        return {
            "email_section": raises_as(AnsibleFilterError)(email_section),
            "email_password_reference": raises_as(AnsibleFilterError)(email_password_reference),
        }
