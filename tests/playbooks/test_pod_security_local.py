"""Least privilege on the local cluster (issue 12): the namespace enforces Pod Security
"restricted" (matrix_namespace_pod_security: label, the default) and every release has its
NetworkPolicies; with `check` a namespace that does not enforce it stops the run in play 1,
before any write; a password Secret from before the superuser was split off gets its
superuser key added, its other key untouched.

Skipped unless dev/cluster/up.sh is running. Shares its namespace (playbooklib.NAMESPACE) with the other
modules of its chain (CHAINS in conftest.py); leaves it converged and labelled (each test puts
back the labels it takes off; the last one ends with a converged run that changes nothing).
"""

import base64
import subprocess

import pytest
from playbooklib import NAMESPACE, REPO, namespace_state, run_playbook

KUBECTL = str(REPO / ".local/bin/kubectl")
KUBECONFIG = str(REPO / ".local/kubeconfig")
PSA = "pod-security.kubernetes.io/"
LEVELS = {f"{PSA}{mode}": "restricted" for mode in ("enforce", "warn", "audit")}
pytestmark = pytest.mark.usefixtures("one_deployment")


def _kubectl(*args):
    return subprocess.run(
        [KUBECTL, f"--kubeconfig={KUBECONFIG}", f"--namespace={NAMESPACE}", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def _labels(core):
    return core.read_namespace(NAMESPACE).metadata.labels or {}


@pytest.fixture(scope="module")
def deployed(core):
    run = run_playbook("site.yml")
    assert run.returncode == 0, run.describe()


def test_site_yml_labels_the_namespace_and_a_labelled_one_costs_no_write(deployed, core):
    # dev/cluster/up.sh creates the namespace labelled: take every Pod Security label off.
    _kubectl(
        "label",
        "namespace",
        NAMESPACE,
        *(
            f"{PSA}{k}-"
            for k in ("enforce", "enforce-version", "warn", "warn-version", "audit", "audit-version")
        ),
    )
    assert not any(k.startswith(PSA) for k in _labels(core))
    run = run_playbook("site.yml")
    assert run.returncode == 0, run.describe()
    patched = [t for t in run.tasks if t.name.endswith(f"Label namespace {NAMESPACE}") and t.changed]
    assert len(patched) == 1, run.describe()  # the first role's; the others find it labelled
    labels = _labels(core)
    assert {k: labels.get(k) for k in LEVELS} == LEVELS
    assert labels[f"{PSA}enforce-version"] == "latest"
    run = run_playbook("site.yml")
    assert run.returncode == 0, run.describe()
    assert run.changed == 0, run.describe()
    labelling = [t for t in run.tasks if t.name.endswith(f"Label namespace {NAMESPACE}")]
    assert all(t.result.get("skipped") for t in labelling), run.describe()


@pytest.mark.parametrize(
    ("level", "found"),
    [(None, "is not set, not restricted"), ("baseline", "is baseline, not restricted")],
)
def test_check_mode_refuses_a_namespace_that_does_not_enforce_restricted(deployed, core, apps, level, found):
    if level is None:
        _kubectl("label", "namespace", NAMESPACE, f"{PSA}enforce-")
    else:
        _kubectl("label", "--overwrite", "namespace", NAMESPACE, f"{PSA}enforce={level}")
    before = namespace_state(core, apps, NAMESPACE)
    labels_before = _labels(core)
    try:
        run = run_playbook("site.yml", args=["-e", "matrix_namespace_pod_security=check"])
        labels_after = _labels(core)
    finally:
        _kubectl("label", "--overwrite", "namespace", NAMESPACE, f"{PSA}enforce=restricted")
    assert run.returncode != 0, run.describe()
    failure = run.failed_task
    assert "_common/tasks/read.yml" in failure.path, run.describe()
    assert f"{PSA}enforce {found}" in failure.message, failure.message
    assert "kubectl label --overwrite namespace matrix" in failure.message, failure.message
    assert not any(t.changed for t in run.tasks), run.describe()
    assert namespace_state(core, apps, NAMESPACE) == before
    assert labels_after == labels_before, "check mode must never label"


def test_check_mode_accepts_a_namespace_that_enforces_restricted(deployed, core):
    assert _labels(core)[f"{PSA}enforce"] == "restricted"
    run = run_playbook("site.yml", args=["-e", "matrix_namespace_pod_security=check"])
    assert run.returncode == 0, run.describe()
    assert run.changed == 0, [t.name for t in run.tasks if t.changed]


def test_an_unknown_mode_is_refused_naming_the_variable(deployed):
    run = run_playbook("site.yml", args=["-e", "matrix_namespace_pod_security=enforce"])
    assert run.returncode != 0
    message = run.failed_task.message
    assert "matrix_namespace_pod_security must be label" in message, message
    assert "not enforce" in message, message


def test_every_release_has_its_network_policies(deployed, local_cluster):
    from kubernetes import client

    names = {
        p.metadata.name
        for p in client.NetworkingV1Api(local_cluster).list_namespaced_network_policy(NAMESPACE).items
    }
    assert {
        f"{release}-{kind}-ingress"
        for release in ("synapse-postgres", "synapse", "well-known")
        for kind in ("deny", "allow")
    } <= names


def test_a_password_secret_without_the_superuser_key_gets_it_once(deployed, core):
    """The upgrade path of a Secret made before the superuser was split off."""
    name = "synapse-postgres-password"
    _kubectl(
        "patch", "secret", name, "--type=json", "-p", '[{"op": "remove", "path": "/data/superuser-password"}]'
    )
    before = core.read_namespaced_secret(name, NAMESPACE).data
    assert set(before) == {"password"}
    run = run_playbook("site.yml")
    assert run.returncode == 0, run.describe()
    after = core.read_namespaced_secret(name, NAMESPACE).data
    assert after["password"] == before["password"]
    assert len(base64.b64decode(after["superuser-password"])) == 48
    run = run_playbook("site.yml")
    assert run.returncode == 0, run.describe()
    assert run.changed == 0, run.describe()
    assert core.read_namespaced_secret(name, NAMESPACE).data == after
