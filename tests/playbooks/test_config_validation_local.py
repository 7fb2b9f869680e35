"""Bad configuration over a converged deployment fails in play 1 and changes nothing
(issue 12, finding 2).

synapse_database_port: 70000 passed the role's checks and was refused by the chart's
schema only when Helm ran, after homeserver.yaml had been replaced; a nested typo
(email.smtp_hots) and a value of the wrong type (max_upload_size: [1]) passed strict mode
and crash-looped Synapse at its next start. Each must now fail in site.yml's first play,
naming the variable, and leave every object of the namespace at its resourceVersion:
Secrets (Helm's release records among them), ConfigMaps, Services, volume claims,
Deployments, StatefulSets, Jobs, Ingresses, and the pods that run the old configuration.

Skipped unless dev/cluster/up.sh is running. The module converges a deployment first
(reusing whatever the namespace holds) and leaves it converged for the next module of its
chain (CHAINS in conftest.py).
"""

import pytest
from playbooklib import NAMESPACE, run_playbook

# The tests of this module share one deployment (conftest.one_deployment).
pytestmark = pytest.mark.usefixtures("one_deployment")

# (extra vars, the file whose task explains the failure, words the message must hold)
CASES = {
    "database port out of range": (
        {"synapse_database_port": 70000},
        "roles/_common/tasks/check_chart_values.yml",
        ["synapse_database_port (chart value database.port) must be at most 65535"],
    ),
    "option of the wrong type": (
        {"synapse_homeserver": {"max_upload_size": [1]}},
        "roles/synapse/tasks/validate.yml",
        ["synapse_homeserver", "'max_upload_size' to a list", "expects an integer or a string"],
    ),
    "nested typo": (
        {"synapse_homeserver": {"email": {"smtp_hots": "x"}}},
        "roles/synapse/tasks/validate.yml",
        ["synapse_homeserver", "'email.smtp_hots'", "did you mean email.smtp_host?"],
    ),
    "postgres port out of range": (
        {"postgres_chart_values": {"service": {"port": 70000}}},
        "roles/_common/tasks/check_chart_values.yml",
        ["postgres_chart_values.service.port must be at most 65535"],
    ),
    "well-known port out of range": (
        {"well_known_chart_values": {"service": {"port": 0}}},
        "roles/_common/tasks/check_chart_values.yml",
        ["well_known_chart_values.service.port must be at least 1"],
    ),
}


@pytest.fixture(scope="module")
def clients(local_cluster):
    from kubernetes import client

    return {
        "core": client.CoreV1Api(local_cluster),
        "apps": client.AppsV1Api(local_cluster),
        "batch": client.BatchV1Api(local_cluster),
        "networking": client.NetworkingV1Api(local_cluster),
    }


@pytest.fixture(scope="module")
def converged(clients):
    """A converged deployment (left for the next module: CHAINS in conftest.py)."""
    run = run_playbook("site.yml")
    assert run.returncode == 0, run.describe()


def _versions(clients):
    """The resourceVersion (and uid: a re-created object is a change too) of every object
    in the namespace that a run could write, and of every pod."""
    core, apps = clients["core"], clients["apps"]
    listings = {
        "Secret": core.list_namespaced_secret,
        "ConfigMap": core.list_namespaced_config_map,
        "Service": core.list_namespaced_service,
        "PersistentVolumeClaim": core.list_namespaced_persistent_volume_claim,
        "Pod": core.list_namespaced_pod,
        "Deployment": apps.list_namespaced_deployment,
        "StatefulSet": apps.list_namespaced_stateful_set,
        "Job": clients["batch"].list_namespaced_job,
        "Ingress": clients["networking"].list_namespaced_ingress,
    }
    return {
        (kind, item.metadata.name): (item.metadata.uid, item.metadata.resource_version)
        for kind, listing in listings.items()
        for item in listing(NAMESPACE).items
    }


@pytest.mark.parametrize(("extra_vars", "where", "needles"), CASES.values(), ids=list(CASES))
def test_bad_configuration_fails_in_play_1_and_changes_nothing(
    converged, clients, tmp_path, extra_vars, where, needles
):
    before = _versions(clients)
    kinds = {kind for kind, _ in before}
    # What a converged deployment holds, so "unchanged" covers each kind the roles write.
    assert {"Secret", "ConfigMap", "Service", "Deployment", "StatefulSet", "Pod"} <= kinds, kinds
    assert any(name.startswith("sh.helm.release.v1.synapse.") for kind, name in before if kind == "Secret")

    run = run_playbook("site.yml", extra_vars=extra_vars, tmp_path=tmp_path)
    assert run.returncode != 0
    failed = run.explained_failure
    assert failed is not None, run.describe()
    assert failed.path.split(":")[0].endswith(where), run.describe()
    for needle in needles:
        assert needle in failed.message, failed.message
    # Play 1, before its reads: no task read or wrote the cluster.
    assert not [t for t in run.tasks if "/tasks/read.yml" in t.path], run.describe()
    assert not [t for t in run.tasks if "/tasks/apply.yml" in t.path], run.describe()
    assert not [t for t in run.tasks if t.action.startswith("kubernetes.core.")], run.describe()
    assert run.changed == 0

    after = _versions(clients)
    changed = sorted(
        f"{kind}/{name}"
        for kind, name in before.keys() | after.keys()
        if before.get((kind, name)) != after.get((kind, name))
    )
    assert not changed, changed


def test_the_same_deployment_still_converges_without_a_change(converged):
    """The positive control: the inventory as it is passes every new check and the
    deployment the failed runs left is the converged one."""
    run = run_playbook("site.yml")
    assert run.returncode == 0, run.describe()
    assert run.changed == 0, [t.name for t in run.tasks if t.changed]
