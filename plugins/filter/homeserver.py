# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that build homeserver.yaml (logic in module_utils/homeserver_config.py).

    "{{ base | matrixk8s.synapse.homeserver_merge(o1, o2, list_merge='replace',
               protected=[...], strict=true, names=[...]) }}"     merged homeserver.yaml
    "{{ host | matrixk8s.synapse.checked_server_name(name='matrix_server_name') }}"
                                                                  host, or an error naming name
    "{{ host | matrixk8s.synapse.checked_host(name='synapse_public_host') }}"
                                                 a lower-case DNS name without port, or an error

Each filter is the module_utils function of the same name; plugin_utils/errors.py turns its
errors into Ansible's, so a failing task shows the message and nothing else.
"""

import functools

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.matrixk8s.synapse.plugins.module_utils.homeserver_config import (
    checked_host,
    checked_server_name,
    homeserver_merge,
)
from ansible_collections.matrixk8s.synapse.plugins.plugin_utils.errors import raises_as

_MERGE = raises_as(AnsibleFilterError, named=True)(homeserver_merge)


# homeserver_merge, announced at -vvvv: the roles merge once per run, and
# tests/playbooks/test_site_local.py counts these lines to prove it.
@functools.wraps(homeserver_merge)
def _counted_merge(base, *overrides, **options):
    Display().vvvv("matrixk8s.synapse.homeserver_merge: merging homeserver.yaml")
    return _MERGE(base, *overrides, **options)


class FilterModule:
    def filters(self):
        # merge errors say which override is wrong, so they start with the filter's name;
        # server-name and host errors start with the variable's name instead.
        return {
            "homeserver_merge": _counted_merge,
            "checked_server_name": raises_as(AnsibleFilterError)(checked_server_name),
            "checked_host": raises_as(AnsibleFilterError)(checked_host),
        }
