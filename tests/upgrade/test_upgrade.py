"""An upgrade from the previous release keeps the deployment's identity and data.

The previous release is the commit named in tests/upgrade/PREVIOUS_RELEASE, built and
installed as its users had it by tests/upgrade/previous_release.py (shared with the
real-node upgrade of Molecule scenario node). ITS playbooks/site.yml runs with ITS
inventories/local into namespace matrix-upgrade (only -e overrides: the namespace, and this
checkout's kubeconfig and helm). Then the CURRENT
site.yml runs over it, twice. Checked:
- the signing key and every generated Secret (database passwords, synapse-secrets'
  registration/macaroon/form secrets, the admin password) are byte-identical;
- each Helm release is deployed from the current chart (its chartDigest), its revision rose
  exactly when the values it was installed with changed (with today's PREVIOUS_RELEASE the
  charts may be the same, and then the roles rightly call no Helm at all), and its
  PersistentVolumeClaims are the same objects (same UID);
- the second current run reports changed=0 and leaves every object's version as it was.

Skipped, saying why, when the commit is not in this clone (a shallow checkout: nothing can
be fetched offline) or the local cluster is not running (a failure under `make test`).

The Matrix data (users, a room, messages, media) is proven on the real node, where Synapse
runs: Molecule scenario node deploys the previous release first (molecule/node/prepare.yml),
then the current one over it, and tests/node/test_upgrade_data.py reads the data back.
"""

import base64
import json
import pathlib
import subprocess
import sys
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "playbooks"))
sys.path.insert(0, str(REPO / "dev" / "cluster"))  # volumes.py, for delete_namespace
sys.path.insert(0, str(REPO / "tests" / "upgrade"))

from playbooklib import (  # noqa: E402
    LOCAL_KUBECONFIG,
    create_namespace,
    delete_namespace,
    local_cluster_api,
    namespace_state,
    run_playbook,
)
from previous_release import NotInClone, install, previous_commit  # noqa: E402

from ansible_collections.matrixk8s.synapse.plugins.module_utils.helm_release import (  # noqa: E402
    chart_digest,
)

NAMESPACE = "matrix-upgrade"
HELM = str(REPO / ".local" / "bin" / "helm")
# The Secrets inventories/local makes the roles generate: identity that must outlive upgrades.
GENERATED_SECRETS = (
    "synapse-signing-key",  # signing_key role
    "synapse-postgres-password",  # postgres role: Synapse's and the superuser's passwords
    "synapse-secrets",  # synapse role: registration_shared_secret, macaroon_secret_key, form_secret
    "synapse-admin-admin",  # synapse role: synapse_admin_users' generated password
)
RELEASES = {"synapse-postgres": "postgres", "synapse": "synapse", "well-known": "well-known"}
# The previous release's inventory points at its own checkout's .local/; here there is none.
OLD_RUN_OVERRIDES = {
    "matrix_namespace": NAMESPACE,
    "matrix_kubeconfig": str(LOCAL_KUBECONFIG),
    "matrix_helm_binary": HELM,
}


@pytest.fixture(scope="module")
def old_collections(tmp_path_factory):
    """The previous release, built and installed as a user installs it: its collections path."""
    try:
        commit = previous_commit()
    except NotInClone as reason:
        pytest.skip(str(reason))
    started = time.monotonic()
    installed = install(tmp_path_factory.mktemp("previous-release"))
    _took(f"git archive, build and install of {commit}", started)
    return installed


@pytest.fixture(scope="module")
def cluster():
    from kubernetes import client

    api = local_cluster_api()
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    delete_namespace(core, NAMESPACE)  # a killed earlier run's leftovers: start from nothing
    create_namespace(core, NAMESPACE)
    yield core, apps
    delete_namespace(core, NAMESPACE)


def _secrets(core):
    return {
        name: (secret.type, secret.data)
        for name in GENERATED_SECRETS
        for secret in [core.read_namespaced_secret(name, NAMESPACE)]
    }


def _claims(core):
    return {
        c.metadata.name: c.metadata.uid for c in core.list_namespaced_persistent_volume_claim(NAMESPACE).items
    }


def _helm(*args):
    done = subprocess.run(
        [HELM, f"--kubeconfig={LOCAL_KUBECONFIG}", f"--namespace={NAMESPACE}", *args, "--output=json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def _releases():
    """name: (revision, status, values) of each release in the namespace."""
    return {
        r["name"]: (int(r["revision"]), r["status"], _helm("get", "values", r["name"]))
        for r in _helm("list", "--all")
    }


@pytest.fixture(scope="module")
def upgrade(old_collections, cluster, tmp_path_factory):
    """The previous release's deploy, then the current one twice: what each left."""
    core, apps = cluster
    tmp = tmp_path_factory.mktemp("runs")
    started = time.monotonic()
    installed = old_collections / "ansible_collections" / "matrixk8s" / "synapse"
    old = run_playbook(
        installed / "playbooks" / "site.yml",
        inventory=installed / "inventories" / "local",
        extra_vars=OLD_RUN_OVERRIDES,
        tmp_path=tmp,
        # Only the installed previous release: not this checkout's playbook-adjacent link.
        env={"ANSIBLE_COLLECTIONS_PATH": str(old_collections)},
    )
    assert old.returncode == 0, "the previous release's site.yml: " + old.describe()
    role_tasks = [t.path for t in old.tasks if "/roles/" in t.path]
    assert role_tasks, "the previous release's run ran no role task"
    elsewhere = sorted({p for p in role_tasks if not p.startswith(str(installed))})
    assert not elsewhere, f"the previous release's run used roles from elsewhere: {elsewhere[:5]}"
    before = {"secrets": _secrets(core), "claims": _claims(core), "releases": _releases()}
    started = _took("the previous release's site.yml", started)

    current = run_playbook("site.yml", extra_vars={"matrix_namespace": NAMESPACE}, tmp_path=tmp)
    assert current.returncode == 0, "the current site.yml over the previous release: " + current.describe()
    after = {"secrets": _secrets(core), "claims": _claims(core), "releases": _releases()}
    started = _took("the current site.yml over it", started)
    revisions = {
        name: (before["releases"].get(name, (None,))[0], after["releases"][name][0])
        for name in after["releases"]
    }
    print(f"[upgrade] release revisions (previous, current): {revisions}")

    state = namespace_state(core, apps, NAMESPACE)
    second = run_playbook("site.yml", extra_vars={"matrix_namespace": NAMESPACE}, tmp_path=tmp)
    _took("the second current site.yml", started)
    return before, after, second, state, namespace_state(core, apps, NAMESPACE)


def _took(what, started):
    """Print a step's wall time (shown with pytest -s; the tier's budget is in docs/testing.md)."""
    now = time.monotonic()
    print(f"\n[upgrade] {what}: {now - started:.1f} s")
    return now


def test_generated_secrets_are_byte_identical(upgrade):
    before, after, *_ = upgrade
    for name in GENERATED_SECRETS:
        old_type, old_data = before["secrets"][name]
        assert old_data, f"{name}: the previous release left it empty"
        new_type, new_data = after["secrets"][name]
        # Compare without printing: the data is key material.
        changed = sorted(k for k in old_data.keys() | new_data.keys() if old_data.get(k) != new_data.get(k))
        assert (new_type, changed) == (old_type, []), (
            f"{name}: type {old_type} -> {new_type}, changed keys {changed}"
        )
    signing_key = base64.b64decode(after["secrets"]["synapse-signing-key"][1]["signing.key"])
    assert signing_key.startswith(b"ed25519 "), "the signing key Secret holds no ed25519 key"


def test_releases_are_upgraded_to_the_current_charts(upgrade):
    before, after, *_ = upgrade
    assert set(before["releases"]) == set(RELEASES), before["releases"].keys()
    for name, chart in RELEASES.items():
        old_revision, _, old_values = before["releases"][name]
        revision, status, values = after["releases"][name]
        assert status == "deployed", f"{name}: {status}"
        assert values["chartDigest"] == chart_digest(REPO / "charts" / chart), (
            f"{name}: not the current chart"
        )
        # Helm is called exactly when the values (chartDigest included) differ.
        rose = revision > old_revision
        assert rose == (values != old_values), f"{name}: revision {old_revision} -> {revision}, values " + (
            "changed" if values != old_values else "unchanged"
        )


def test_volume_claims_are_kept(upgrade):
    before, after, *_ = upgrade
    assert len(before["claims"]) >= 2, f"the previous release made {sorted(before['claims'])}"
    lost = {name: uid for name, uid in before["claims"].items() if after["claims"].get(name) != uid}
    assert not lost, f"claims replaced or removed by the upgrade: {sorted(lost)}"


def test_second_current_run_changes_nothing(upgrade):
    *_, second, state_before, state_after = upgrade
    assert second.returncode == 0, second.describe()
    assert second.changed == 0, [t.name for t in second.tasks if t.changed]
    assert state_after == state_before
