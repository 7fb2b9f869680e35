"""A changed synapse_homeserver override rolls the Synapse pods, and nothing else changes."""

import copy
import hashlib

import pytest
import verifylib
import yaml


def _snapshot(core, apps):
    synapse = apps.read_namespaced_deployment("synapse", verifylib.NAMESPACE)
    return {
        "releases": verifylib.helm_releases(core),
        "kept": verifylib.kept_secrets(core),
        "checksum": synapse.spec.template.metadata.annotations["checksum/config"],
        "synapse_generation": synapse.metadata.generation,
        "postgres_generation": apps.read_namespaced_stateful_set(
            "synapse-postgres", verifylib.NAMESPACE
        ).metadata.generation,
        "well_known_generation": apps.read_namespaced_deployment(
            "well-known", verifylib.NAMESPACE
        ).metadata.generation,
    }


def _current_replica_set_checksum(apps):
    sets = apps.list_namespaced_replica_set(
        verifylib.NAMESPACE, label_selector="app.kubernetes.io/instance=synapse"
    )
    live = [rs for rs in sets.items if rs.spec.replicas]
    assert len(live) == 1, [rs.metadata.name for rs in live]
    return live[0].spec.template.metadata.annotations["checksum/config"]


@pytest.fixture(scope="module")
def before(core, apps):
    return _snapshot(core, apps)


@pytest.fixture(scope="module")
def changed_override():
    overrides = verifylib.group_vars()["synapse_homeserver"]
    overrides = copy.deepcopy(yaml.safe_load(overrides) if isinstance(overrides, str) else overrides)
    overrides["max_upload_size"] = "55M" if overrides.get("max_upload_size") != "55M" else "56M"
    return overrides


def test_changed_override_rolls_only_the_synapse_pod_template(core, apps, converge, before, changed_override):
    run = converge(extra_vars={"synapse_homeserver": changed_override})
    assert run.returncode == 0, run.describe()
    text = verifylib.homeserver_yaml(core)
    assert yaml.safe_load(text)["max_upload_size"] == changed_override["max_upload_size"]
    after = _snapshot(core, apps)
    # Synapse: a new checksum in the pod template, a new ReplicaSet, a new release revision.
    assert after["checksum"] == hashlib.sha256(text.encode()).hexdigest() != before["checksum"]
    assert after["synapse_generation"] == before["synapse_generation"] + 1
    assert _current_replica_set_checksum(apps) == after["checksum"]
    assert after["releases"]["synapse"] == (before["releases"]["synapse"][0] + 1, "deployed")
    # Nothing else: the other releases, their workloads and the generated Secrets.
    for release in ("synapse-postgres", "well-known"):
        assert after["releases"][release] == before["releases"][release]
    assert after["postgres_generation"] == before["postgres_generation"]
    assert after["well_known_generation"] == before["well_known_generation"]
    assert after["kept"] == before["kept"]
    changed = [t for t in run.tasks if t.changed]
    # Only a new homeserver.yaml Secret (named after its digest), Synapse's check of it in a
    # Job (started, then removed), and the synapse release (all through _common).
    secret = "synapse-config-" + hashlib.sha256(text.encode()).hexdigest()[:10]
    assert verifylib.config_secret_name(core) == secret
    assert {t.name for t in changed} == {
        f"matrixk8s.synapse._common : Create (only if absent): Secret {secret}",
        "matrixk8s.synapse._common : Present: Job synapse-config-check",
        "matrixk8s.synapse._common : Remove Job synapse-config-check",
        "matrixk8s.synapse._common : Install synapse as release synapse",
    }, [t.name for t in changed]


def test_inventory_override_again_rolls_back_to_the_first_checksum(core, apps, converge, before):
    run = converge()
    assert run.returncode == 0, run.describe()
    after = _snapshot(core, apps)
    assert after["checksum"] == before["checksum"]
    assert _current_replica_set_checksum(apps) == before["checksum"]
    assert after["releases"]["synapse"] == (before["releases"]["synapse"][0] + 2, "deployed")
    assert after["kept"] == before["kept"]
