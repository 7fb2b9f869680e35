"""Fixtures for tests/playbooks: a kubeconfig that goes nowhere, and the local cluster."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
# dev/cluster/volumes.py: the local cluster's volume pool, shared with dev/bench/.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "dev" / "cluster"))

from playbooklib import NAMESPACE, create_namespace, delete_namespace, local_cluster_api  # noqa: E402


@pytest.fixture
def unreachable_kubeconfig(tmp_path):
    """A kubeconfig whose API server refuses connections (port 9 on the loopback).

    With it, a run that gets past input validation fails at the first cluster probe, so a
    test can tell "rejected by validation" from "reached the cluster" without a cluster.
    """
    path = tmp_path / "kubeconfig"
    path.write_text(
        """apiVersion: v1
kind: Config
clusters:
  - name: nowhere
    cluster:
      server: https://127.0.0.1:9
      insecure-skip-tls-verify: true
contexts:
  - name: nowhere
    context: {cluster: nowhere, user: nobody, namespace: matrix}
current-context: nowhere
users:
  - name: nobody
    user: {token: not-a-real-token}
"""
    )
    return path


@pytest.fixture(scope="session")
def local_cluster():
    """The project's local cluster (dev/cluster/up.sh), or skip."""
    api = local_cluster_api()
    if NAMESPACE == "matrix":
        yield api
        return
    # A second xdist worker's namespace, deleted afterwards with its volumes handed back.
    from kubernetes import client

    core = client.CoreV1Api(api)
    create_namespace(core, NAMESPACE)
    yield api
    delete_namespace(core, NAMESPACE)


def pytest_configure_node(node):
    """xdist's controller tells each worker how modules are distributed: a worker's own
    `dist` option reads "no" whatever the command line said."""
    node.workerinput["matrixk8s_dist"] = node.config.getoption("dist")


@pytest.fixture(scope="module")
def one_deployment(request):
    """For modules that share one deployment: under xdist only --dist loadfile/loadgroup
    keeps a module on one worker, so anything else skips them rather than racing."""
    dist = getattr(request.config, "workerinput", {}).get("matrixk8s_dist", "no")
    if os.environ.get("PYTEST_XDIST_WORKER") and dist not in ("loadfile", "loadgroup"):
        pytest.skip("these tests share one deployment: run them serially or with --dist loadfile")


@pytest.fixture(scope="module")
def core(local_cluster):
    from kubernetes import client

    return client.CoreV1Api(local_cluster)


@pytest.fixture(scope="module")
def apps(local_cluster):
    from kubernetes import client

    return client.AppsV1Api(local_cluster)
