# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the roles' skip-when-current check (logic in module_utils/helm_release.py).

helm_release_state: the newest revision of a Helm release, from its storage Secrets.
chart_digest: 'sha256:<hex>' over the files of a chart directory on the controller. The roles
  pass it as the chart value chartDigest, so a changed template changes the release's values.
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.module_utils.helm_release import (
    HelmReleaseError,
    release_state,
)
from ansible_collections.matrixk8s.synapse.plugins.module_utils.helm_release import (
    chart_digest as _chart_digest,
)


def helm_release_state(secrets):
    try:
        return release_state(secrets)
    except HelmReleaseError as exc:
        raise AnsibleFilterError(f"helm_release_state: {exc}") from None


def chart_digest(path):
    try:
        return _chart_digest(str(path))
    except HelmReleaseError as exc:
        raise AnsibleFilterError(f"chart_digest: {exc}") from None


class FilterModule:
    def filters(self):
        return {"helm_release_state": helm_release_state, "chart_digest": chart_digest}
