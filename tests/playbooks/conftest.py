"""Fixtures for tests/playbooks: a kubeconfig that goes nowhere, and the local cluster."""

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
# dev/cluster/volumes.py: the local cluster's volume pool, shared with dev/bench/.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "dev" / "cluster"))

from playbooklib import LOCAL_KUBECONFIG, NAMESPACE  # noqa: E402


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


def _cluster_reachable():
    if not LOCAL_KUBECONFIG.is_file():
        return False
    try:
        from kubernetes import client, config

        api = config.new_client_from_config(config_file=str(LOCAL_KUBECONFIG))
        client.CoreV1Api(api).read_namespace("matrix", _request_timeout=5)
        return True
    except Exception:  # noqa: BLE001 - any failure means "no usable cluster"
        return False


@pytest.fixture(scope="session")
def local_cluster():
    """The project's local cluster (dev/cluster/up.sh), or skip."""
    if not _cluster_reachable():
        message = "local cluster not running (dev/cluster/up.sh); kubeconfig .local/kubeconfig"
        # `make test` sets this: there the cluster tier must run, and a skip would hide it.
        if os.environ.get("MATRIXK8S_REQUIRE_CLUSTER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from kubernetes import config

    api = config.new_client_from_config(config_file=str(LOCAL_KUBECONFIG))
    if NAMESPACE == "matrix":
        yield api
        return
    # A second xdist worker's namespace: made as dev/cluster/up.sh makes "matrix" (its Pod
    # Security labels copied), and deleted afterwards with its claims' volumes handed back,
    # so the next tier (and the real node) find the pool as up.sh left it.
    from kubernetes import client
    from volumes import return_released_volumes

    core = client.CoreV1Api(api)
    labels = core.read_namespace("matrix").metadata.labels or {}
    labels = {k: v for k, v in labels.items() if k.startswith("pod-security.kubernetes.io/")}
    try:
        core.create_namespace({"metadata": {"name": NAMESPACE, "labels": labels}})
    except client.ApiException as error:
        if error.status != 409:
            raise
    yield api
    core.delete_namespace(NAMESPACE)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            core.read_namespace(NAMESPACE)
        except client.ApiException as error:
            if error.status == 404:
                break
            raise
        time.sleep(1)
    return_released_volumes(core, NAMESPACE)


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
