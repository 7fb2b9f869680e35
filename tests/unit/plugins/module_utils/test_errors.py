"""Every error module_utils raises on purpose shares one base, which the plugins' decorator catches."""

import pytest

from ansible_collections.matrixk8s.synapse.plugins.module_utils.errors import MatrixK8sError
from ansible_collections.matrixk8s.synapse.plugins.module_utils.helm_release import HelmReleaseError
from ansible_collections.matrixk8s.synapse.plugins.module_utils.homeserver_config import HomeserverConfigError
from ansible_collections.matrixk8s.synapse.plugins.module_utils.kube import KubeError
from ansible_collections.matrixk8s.synapse.plugins.module_utils.signing_key import SigningKeyError


@pytest.mark.parametrize("error", [HomeserverConfigError, SigningKeyError, HelmReleaseError, KubeError])
def test_each_error_class_is_a_matrixk8s_error(error):
    assert issubclass(error, MatrixK8sError)


def test_the_base_is_a_value_error():
    # Callers that caught ValueError before the base existed still catch every one of them.
    assert issubclass(MatrixK8sError, ValueError)
