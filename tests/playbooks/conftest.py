"""Fixtures for tests/playbooks: a kubeconfig that goes nowhere, and the local cluster."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
# dev/cluster/volumes.py: the local cluster's volume pool, shared with dev/bench/.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "dev" / "cluster"))

from playbooklib import NAMESPACE, create_namespace, delete_namespace, local_cluster_api, purge  # noqa: E402

# `make playbooks` runs two xdist workers with --dist loadfile, and the scheduler below
# (pytest_xdist_make_scheduler) refines it: the modules that deploy into the worker's
# namespace run whole, in chains, each chain on one worker and in this order, so that each
# module finds the state it needs at its cheapest:
# - "converged": each converges over whatever the namespace holds and leaves the deployment
#   converged, so the next one's converge is a second run, not a purge and a fresh deploy;
# - "from-empty": each purges first and ends with a purge, so the next one's purge finds
#   nothing to do (playbooklib.purge skips it).
# A module still makes the state it needs itself, so it passes alone, or under plain
# loadfile, as before. A module whose tests share something outside the worker's namespace
# (KEPT_WHOLE) runs whole. Every other test is independent (offline, or a snapshot of its
# own worker's namespace around one refused run) and is handed out alone, filling the gaps.
CHAINS = {
    "converged": (
        "test_config_validation_local.py",
        "test_email_local.py",
        "test_faults_local.py",
        "test_health_local.py",
        "test_lock_local.py",
        "test_pod_security_local.py",
    ),
    "from-empty": (
        "test_config_rollout_local.py",
        "test_identity_local.py",
        "test_site_local.py",
        "test_two_instances_local.py",
    ),
}
KEPT_WHOLE = (
    # One namespace name (matrix-key-leaks) for every worker.
    "test_signing_key_leaks_local.py",
    # Molecule's ephemeral directory is per scenario, not per worker.
    "test_molecule_scenarios.py",
)
_CHAIN_OF = {module: chain for chain, modules in CHAINS.items() for module in modules}


def _work_unit(nodeid):
    """The unit of work a test belongs to: its chain, its module, or itself."""
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    if module in _CHAIN_OF:
        return f"chain {_CHAIN_OF[module]}"
    if module in KEPT_WHOLE:
        return nodeid.split("::", 1)[0]
    return nodeid


def pytest_xdist_make_scheduler(config, log):
    """loadfile with the units of _work_unit. (xdist's own loadgroup would do with marks,
    but with pytest 9.2 it reads the node ids before it adds the group: every test alone.)
    xdist hands the largest units out first: the two chains, one to each worker."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ChainScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return _work_unit(nodeid)

    return ChainScheduling(config, log)


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
        # The "converged" chain leaves its deployment: the next tier finds "matrix" empty,
        # as dev/cluster/up.sh made it.
        from kubernetes import client

        purge(client.CoreV1Api(api))
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
    keeps a module on one worker (loadfile here: in its chain, above), so anything else skips
    them rather than racing."""
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
