"""Faults on the live local cluster (issue 4, "Bad input and faults").

- The cluster cannot be read (unreachable API, wrong kube context, missing namespace): the
  play stops at its first task that touches the cluster, says which of the three it is,
  and changes nothing.
- The database never becomes Ready (a postgres nodeSelector no node matches, with a short
  postgres_wait_timeout): the postgres role stops with a clear message and Synapse is not
  deployed; once the cause is fixed, a re-run converges and nothing is lost.

Skipped unless dev/cluster/up.sh is running. The tests share one deployment and run in
file order; the module leaves it converged for the next module of its chain
(CHAINS in conftest.py).
"""

import base64
import json
import subprocess

import pytest
from playbooklib import NAMESPACE, REPO, namespace_state, purge, releases_the_lock, run_playbook

# The tests of this module share one deployment (conftest.one_deployment).
pytestmark = pytest.mark.usefixtures("one_deployment")
# A selector no node matches, and a short wait (the inventory's is 3m).
NEVER_SCHEDULED = {
    "postgres_node_selector": {"matrixk8s.test/no-such-node": "true"},
    "postgres_wait_timeout": "5s",
}


@pytest.fixture(scope="module")
def deployed(core):
    """A converged deployment to break (the last test leaves it converged)."""
    run = run_playbook("site.yml")
    assert run.returncode == 0, run.describe()


def _secret(core, name):
    from kubernetes.client.exceptions import ApiException

    try:
        data = core.read_namespaced_secret(name, NAMESPACE).data or {}
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


def _kept(core):
    """What a fault must never lose: the key, the generated secrets, the database password."""
    return {
        name: _secret(core, name)
        for name in ("synapse-signing-key", "synapse-secrets", "synapse-postgres-password")
    }


def _state(core, apps):
    """Every object in the namespace that a run could change, with its version."""
    return namespace_state(core, apps, NAMESPACE)


def _releases():
    proc = subprocess.run(
        [str(REPO / ".local/bin/helm"), "--kubeconfig", str(REPO / ".local/kubeconfig"), "-n", NAMESPACE]
        + ["list", "-a", "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return {r["name"]: (int(r["revision"]), r["status"]) for r in json.loads(proc.stdout)}


def _stopped_at_first_cluster_task(run):
    """The explaining failure is the last task, and nothing before it touched the cluster."""
    failed = [t for t in run.tasks if t.failed]
    assert failed, run.describe()
    explained = failed[-1]
    # Nothing after it but the release of the namespace's lock (nothing to release here).
    after = [t for t in run.tasks[run.tasks.index(explained) + 1 :] if not releases_the_lock(t)]
    assert not after, [t.name for t in after]
    assert explained.path.split(":")[0].endswith("roles/_common/tasks/read.yml"), run.describe()
    first_cluster = next(t for t in run.tasks if "/roles/_common/tasks/read.yml" in t.path)
    # The read of the namespace's lock, through _common: the first cluster access of site.yml.
    assert " : Read the lock (Lease matrixk8s-synapse-lock), in namespace " in first_cluster.name, (
        first_cluster
    )
    before = run.tasks[: run.tasks.index(first_cluster)]
    # Only validation (the roles' own, _common's misspelt-variable and chart-values checks), and the
    # include of _common that leads to the read.
    assert all(
        "/tasks/validate.yml" in t.path
        or "/roles/_common/tasks/check_variables.yml" in t.path
        or "/roles/_common/tasks/check_chart_values.yml" in t.path
        or t.action in ("ansible.builtin.validate_argument_spec", "ansible.builtin.include_role")
        or (
            "/roles/_common/tasks/lock.yml" in t.path
            and t.action
            in ("ansible.builtin.assert", "ansible.builtin.set_fact", "ansible.builtin.include_tasks")
        )
        for t in before
    ), [(t.name, t.path) for t in before if "/tasks/validate.yml" not in t.path]
    return explained


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("unreachable", "Cannot reach the Kubernetes API: "),
        ("wrong context", "Wrong kube context: no-such-context is not a context of the kubeconfig"),
        ("missing namespace", "Namespace no-such-namespace does not exist in the cluster of context"),
    ],
)
def test_unreadable_cluster_stops_at_the_first_task_and_changes_nothing(
    fault, expected, deployed, core, apps, tmp_path, unreachable_kubeconfig
):
    extra_vars = {
        "unreachable": {"matrix_kubeconfig": str(unreachable_kubeconfig)},
        "wrong context": {"matrix_kube_context": "no-such-context"},
        "missing namespace": {"matrix_namespace": "no-such-namespace"},
    }[fault]
    before, releases = _state(core, apps), _releases()
    run = run_playbook("site.yml", extra_vars=extra_vars, tmp_path=tmp_path)
    assert run.returncode != 0
    explained = _stopped_at_first_cluster_task(run)
    assert explained.message.startswith(expected), explained.message
    assert run.changed == 0
    assert _state(core, apps) == before
    assert _releases() == releases


def test_unready_workload_of_a_current_release_is_waited_for_not_reported_ok(deployed, apps, tmp_path):
    """_common's install_chart: values unchanged, so Helm has nothing to do, but the
    release's Deployment is not Ready (changed outside Helm: a nodeSelector no node
    matches). The run waits for it and fails with the role's message instead of reporting
    ok; once the cause is gone, the same run succeeds and changes nothing."""
    never = {"spec": {"template": {"spec": {"nodeSelector": {"matrixk8s.test/no-such-node": "true"}}}}}
    apps.patch_namespaced_deployment("well-known", NAMESPACE, never)
    releases = _releases()
    try:
        run = run_playbook(
            "site.yml",
            extra_vars={"well_known_wait_timeout": "5s"},
            args=["--tags", "well_known"],
            tmp_path=tmp_path,
        )
        assert run.returncode != 0
        failed = run.explained_failure
        assert failed.path.split(":")[0].endswith("roles/_common/tasks/install_chart.yml"), run.describe()
        assert "The .well-known server did not become Available within 5s" in failed.message
        waited = [
            t for t in run.tasks if t.name.endswith("Wait until Ready, the workloads of release well-known")
        ]
        assert waited, run.describe()
        assert waited[0].failed, run.describe()
        helm = [t for t in run.tasks if t.action == "kubernetes.core.helm" and not t.result.get("skipped")]
        assert not helm, "values are current: no helm"
        assert _releases() == releases
    finally:
        apps.patch_namespaced_deployment(
            "well-known", NAMESPACE, {"spec": {"template": {"spec": {"nodeSelector": None}}}}
        )
    fixed = run_playbook("site.yml", args=["--tags", "well_known"])
    assert fixed.returncode == 0, fixed.describe()
    assert fixed.changed == 0, [t.name for t in fixed.tasks if t.changed]
    assert _releases() == releases


def test_database_never_ready_stops_before_synapse_and_a_fixed_rerun_loses_nothing(
    deployed, core, apps, tmp_path
):
    kept = _kept(core)
    assert all(kept.values())
    releases = _releases()
    synapse_generation = apps.read_namespaced_deployment("synapse", NAMESPACE).metadata.generation

    broken = run_playbook("site.yml", extra_vars=NEVER_SCHEDULED, tmp_path=tmp_path)
    assert broken.returncode != 0
    failed = [t for t in broken.tasks if t.failed][-1]
    assert failed.path.split(":")[0].endswith("roles/_common/tasks/install_chart.yml"), broken.describe()
    assert failed.name.startswith("matrixk8s.synapse._common : "), broken.describe()
    assert "PostgreSQL did not become Ready within 5s" in failed.message
    assert "Synapse is not deployed" in failed.message
    assert f"kubectl -n {NAMESPACE} describe pod synapse-postgres-0" in failed.message
    after = [t for t in broken.tasks[broken.tasks.index(failed) + 1 :] if not releases_the_lock(t)]
    assert not after, [t.name for t in after]
    assert not [t for t in broken.tasks if "/roles/synapse/tasks/apply.yml" in t.path]
    now = _releases()
    assert now["synapse-postgres"][1] == "failed"
    assert now["synapse"] == releases["synapse"]
    assert now["well-known"] == releases["well-known"]
    assert apps.read_namespaced_deployment("synapse", NAMESPACE).metadata.generation == synapse_generation
    assert _kept(core) == kept

    # The fix: the inventory without the bad selector. The pod of the failed revision never
    # became Ready; the role replaces it and waits.
    fixed = run_playbook("site.yml")
    assert fixed.returncode == 0, fixed.describe()
    assert _releases()["synapse-postgres"][1] == "deployed"
    sts = apps.read_namespaced_stateful_set("synapse-postgres", NAMESPACE)
    assert sts.status.ready_replicas == 1
    assert not sts.spec.template.spec.node_selector
    assert _kept(core) == kept
    again = run_playbook("site.yml")
    assert again.returncode == 0, again.describe()
    assert again.changed == 0, [t.name for t in again.tasks if t.changed]


def test_database_never_ready_on_a_fresh_namespace_then_the_cause_is_fixed_in_the_cluster(
    deployed, core, apps, tmp_path
):
    """No release yet: Synapse is not installed at all. The fix is outside the inventory (a
    node gets the label the selector wants), so the re-run has the same values: the role
    still waits for the database before it goes on."""
    purge(core)
    selector = {"postgres_node_selector": {"matrixk8s.test/database": "yes"}, "postgres_wait_timeout": "5s"}
    broken = run_playbook("site.yml", extra_vars=selector, tmp_path=tmp_path)
    assert broken.returncode != 0
    failed = [t for t in broken.tasks if t.failed][-1]
    assert "PostgreSQL did not become Ready within 5s" in failed.message, broken.describe()
    assert set(_releases()) == {"synapse-postgres"}
    assert not core.list_namespaced_secret(
        NAMESPACE,
        label_selector="matrixk8s.synapse/homeserver-config=true,app.kubernetes.io/instance=synapse",
    ).items
    password = _secret(core, "synapse-postgres-password")
    assert password

    node = "kwok-node-0"
    core.patch_node(node, {"metadata": {"labels": {"matrixk8s.test/database": "yes"}}})
    try:
        fixed = run_playbook("site.yml", extra_vars=selector, tmp_path=tmp_path)
        assert fixed.returncode == 0, fixed.describe()
        waited = [
            t
            for t in fixed.tasks
            if t.name.endswith("_common : Wait until Ready, the workloads of release synapse-postgres")
        ]
        assert waited, "the re-run must wait for the database of the failed revision"
        assert not waited[0].result.get("skipped"), waited[0].result
        pod = core.read_namespaced_pod("synapse-postgres-0", NAMESPACE)
        assert pod.spec.node_name == node
        assert _secret(core, "synapse-postgres-password") == password
        assert _releases()["synapse"][1] == "deployed"
    finally:
        core.patch_node(node, {"metadata": {"labels": {"matrixk8s.test/database": None}}})
