"""Two deployments in one namespace (issue 12, finding 5): uninstall and purge touch only
their own objects.

Deployment A is inventories/local as it is; deployment B is the same inventory with its
own release and Secret names and server name (extra vars, as a second inventory would set
them). Uninstalling A (without purge, then with) removes A's releases, homeserver.yaml
Secrets (the fixed name and the content-addressed ones, by their labels), generated
Secrets, admin record and password, and volume claims, and leaves every object of B as
it was: B's next run changes nothing.

Skipped unless dev/cluster/up.sh is running. Shares its namespace (playbooklib.NAMESPACE) with the other
modules of its chain (CHAINS in conftest.py); starts and ends by purging both (a purge of a
namespace that holds nothing is skipped: playbooklib.purge).
"""

import json
import subprocess

import pytest
from playbooklib import NAMESPACE, REPO, purge, run_playbook

pytestmark = pytest.mark.usefixtures("one_deployment")
PART_OF = "app.kubernetes.io/part-of=matrixk8s-synapse"
B = {
    "matrix_server_name": "b.example.test",
    "matrix_public_host": "matrix.b.example.test",
    "matrix_synapse_release_name": "synapse-b",
    "matrix_postgres_release_name": "synapse-b-postgres",
    "matrix_database_password_secret": "synapse-b-postgres-password",
    "matrix_signing_key_secret": "synapse-b-signing-key",
    "synapse_secrets_secret_name": "synapse-b-secrets",
    "synapse_config_secret_name": "synapse-b-config",
    "well_known_release_name": "well-known-b",
    "well_known_support": {},
}
A_RELEASES = {"synapse", "synapse-postgres", "well-known"}
B_RELEASES = {"synapse-b", "synapse-b-postgres", "well-known-b"}
A_SECRETS = {"synapse-postgres-password", "synapse-signing-key", "synapse-secrets", "synapse-admin-admin"}
B_SECRETS = {
    "synapse-b-postgres-password",
    "synapse-b-signing-key",
    "synapse-b-secrets",
    "synapse-b-admin-admin",
}
# homeserver.yaml as the synapse role stores it content-addressed: <name>-<digest>, found by
# these labels (planted here: the names the roles use do not depend on it).
DIGEST = "0123abcd"


def _b_vars(tmp_path):
    path = tmp_path / "instance-b.json"
    path.write_text(json.dumps(B))
    return ["-e", f"@{path}"]


def _helm_releases():
    out = subprocess.run(
        [
            str(REPO / ".local/bin/helm"),
            "--kubeconfig",
            str(REPO / ".local/kubeconfig"),
            "-n",
            NAMESPACE,
            "list",
            "-q",
            "--all",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def _ours(core):
    """{(kind, name): resourceVersion} of every Secret, ConfigMap and claim of ours."""
    found = {}
    for kind, items in (
        ("Secret", core.list_namespaced_secret(NAMESPACE, label_selector=PART_OF).items),
        ("ConfigMap", core.list_namespaced_config_map(NAMESPACE, label_selector=PART_OF).items),
        ("PersistentVolumeClaim", core.list_namespaced_persistent_volume_claim(NAMESPACE).items),
    ):
        found.update(
            {
                (kind, o.metadata.name): o.metadata.resource_version
                for o in items
                if o.metadata.deletion_timestamp is None
            }
        )
    return found


def _config_names(names):
    """The homeserver.yaml Secrets (<synapse_config_secret_name>-<digest>) among names."""
    return {name for name in names if name.startswith(("synapse-config-", "synapse-b-config-"))}


def _plant_config(core, release):
    from kubernetes import client

    name = f"{'synapse-b-config' if release == 'synapse-b' else 'synapse-config'}-{DIGEST}"
    core.create_namespaced_secret(
        NAMESPACE,
        client.V1Secret(
            metadata=client.V1ObjectMeta(
                name=name,
                labels={
                    "app.kubernetes.io/part-of": "matrixk8s-synapse",
                    "app.kubernetes.io/component": "homeserver",
                    "app.kubernetes.io/instance": release,
                    "matrixk8s.synapse/homeserver-config": "true",
                },
            ),
            string_data={"homeserver.yaml": "server_name: planted\n"},
        ),
    )
    return name


@pytest.fixture(scope="module")
def two(core, tmp_path_factory):
    b_args = _b_vars(tmp_path_factory.mktemp("instance-b"))
    purge(core)
    purge(core, b_args)
    # B first: the postgres and signing_key roles take a Secret named synapse-config (A's
    # homeserver.yaml, a fixed name in their evidence reads) as proof that B was deployed
    # before, and refuse to generate B's password and key. A after B finds no such proof.
    for args in (b_args, ()):
        run = run_playbook("site.yml", args=list(args))
        assert run.returncode == 0, run.describe()
    planted = {release: _plant_config(core, release) for release in ("synapse", "synapse-b")}
    yield {"b_args": b_args, "planted": planted}
    purge(core)
    purge(core, b_args)


def _of_b(state):
    return {
        key: version
        for key, version in state.items()
        if key[1].startswith(("synapse-b", "data-synapse-b-", "well-known-b"))
    }


def test_both_deployments_are_there(two, core):
    assert _helm_releases() >= A_RELEASES | B_RELEASES
    names = {name for kind, name in _ours(core) if kind == "Secret"}
    assert A_SECRETS | B_SECRETS | set(two["planted"].values()) <= names
    # Besides the planted ones, each instance's own content-addressed homeserver.yaml.
    own = {name.rsplit("-", 1)[0] for name in _config_names(names) - set(two["planted"].values())}
    assert own == {"synapse-config", "synapse-b-config"}


def test_uninstall_removes_only_this_deployments_homeserver_yaml(two, core):
    b_before = _of_b(_ours(core))
    assert b_before, "deployment B is missing: the test would prove nothing"
    run = run_playbook("uninstall.yml")
    assert run.returncode == 0, run.describe()
    names = {name for kind, name in _ours(core) if kind == "Secret"}
    # A's homeserver.yaml Secrets are gone, its own and the planted one; B's stay.
    assert not {name for name in _config_names(names) if name.startswith("synapse-config-")}
    assert two["planted"]["synapse-b"] in names
    # A keeps what cannot be recreated; B keeps everything, unchanged.
    assert names >= A_SECRETS
    assert _of_b(_ours(core)) == b_before
    assert _helm_releases() >= B_RELEASES
    assert not A_RELEASES & _helm_releases()


def test_purging_one_deployment_leaves_the_other(two, core):
    b_before = _of_b(_ours(core))
    run = run_playbook("uninstall.yml", args=["-e", "purge=true"])
    assert run.returncode == 0, run.describe()
    after = _ours(core)
    # Nothing of A is left.
    left_of_a = sorted(
        name
        for kind, name in after
        if name in A_SECRETS | {"synapse-admin-users", "data-synapse-postgres-0", "synapse-media"}
    )
    assert not left_of_a
    # Every Secret, ConfigMap and claim of B is there, not even updated.
    assert _of_b(after) == b_before
    for expected in [
        ("Secret", "synapse-b-signing-key"),
        ("Secret", "synapse-b-postgres-password"),
        ("Secret", "synapse-b-secrets"),
        ("Secret", "synapse-b-admin-admin"),
        ("Secret", two["planted"]["synapse-b"]),
        ("ConfigMap", "synapse-b-admin-users"),
        ("PersistentVolumeClaim", "data-synapse-b-postgres-0"),
        ("PersistentVolumeClaim", "synapse-b-media"),
    ]:
        assert expected in b_before, expected
    assert _helm_releases() >= B_RELEASES
    # B's next run finds everything it made: nothing to change.
    again = run_playbook("site.yml", args=two["b_args"])
    assert again.returncode == 0, again.describe()
    assert again.changed == 0, [t.name for t in again.tasks if t.changed]
