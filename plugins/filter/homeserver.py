# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that build homeserver.yaml: homeserver_merge and server_name.

The logic lives in module_utils/homeserver_config.py; these wrappers only turn its errors
into Ansible's, so a failing task shows the message and nothing else.
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.module_utils.homeserver_config import (
    HomeserverConfigError,
    check_server_name,
    merge,
)


def homeserver_merge(base, *overrides, list_merge="replace", protected=None, strict=True, names=None):
    try:
        return merge(base, *overrides, list_merge=list_merge, protected=protected, strict=strict, names=names)
    except HomeserverConfigError as exc:
        raise AnsibleFilterError(f"homeserver_merge: {exc}") from None


def server_name(value, name="matrix_server_name"):
    try:
        return check_server_name(value, name)
    except HomeserverConfigError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"homeserver_merge": homeserver_merge, "server_name": server_name}
