# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter helm_release_state: the newest revision of a Helm release, from its storage Secrets.

The logic lives in module_utils/helm_release.py.
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.module_utils.helm_release import (
    HelmReleaseError,
    release_state,
)


def helm_release_state(secrets):
    try:
        return release_state(secrets)
    except HelmReleaseError as exc:
        raise AnsibleFilterError(f"helm_release_state: {exc}") from None


class FilterModule:
    def filters(self):
        return {"helm_release_state": helm_release_state}
