"""Fixtures for the Molecule verify tests (see verifylib.py for what they judge).

The test files run in name order against one deployment and change it as they go: a
reconverge, a deleted Deployment, an uninstall, an override, a run with AWX-style
credentials, and last the purge. Each file leaves the deployment converged for the next,
except test_90_purge.py, which removes it (molecule destroy then deletes the cluster).
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import verifylib  # noqa: E402


@pytest.fixture(scope="session")
def kube():
    """An API client for the scenario's cluster; a failure here is a failure, never a skip."""
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=verifylib.KUBECONFIG, context=verifylib.KUBE_CONTEXT)
    client.CoreV1Api(api).read_namespace(verifylib.NAMESPACE, _request_timeout=10)
    return api


@pytest.fixture(scope="session")
def core(kube):
    from kubernetes import client

    return client.CoreV1Api(kube)


@pytest.fixture(scope="session")
def apps(kube):
    from kubernetes import client

    return client.AppsV1Api(kube)


@pytest.fixture
def converge(tmp_path):
    """Run site.yml (or another playbook) with the scenario's inventory; return the Run."""
    from playbooklib import run_playbook

    def run(playbook="site.yml", extra_vars=None, args=(), env=None):
        return run_playbook(
            playbook,
            inventory=verifylib.INVENTORY,
            extra_vars=extra_vars,
            args=args,
            env=env,
            tmp_path=tmp_path,
        )

    return run
