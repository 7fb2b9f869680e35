"""Identities and credentials are never regenerated silently (issue 12, finding 3).

- On a converged deployment, deleting only the signing-key Secret (then only the database
  password Secret) makes site.yml fail in play 1, naming the Secret and the evidence of the
  deployment, with nothing changed; with the role's explicit regenerate input the run goes on.
- A Secret created by another run between a role's read and its write is not overwritten:
  the create-only write fails and the other run's Secret stays as it was.

Skipped unless dev/cluster/up.sh is running. Shares its namespace (playbooklib.NAMESPACE) with the other
modules of its chain (CHAINS in conftest.py); starts and ends by purging (a purge of a namespace
that holds nothing is skipped: playbooklib.purge).
"""

import base64
import json
import subprocess

import pytest
from playbooklib import NAMESPACE, REPO, namespace_state, purge, run_playbook

KUBECTL = str(REPO / ".local/bin/kubectl")
KUBECONFIG = str(REPO / ".local/kubeconfig")
pytestmark = pytest.mark.usefixtures("one_deployment")


def _kubectl(*args, stdin=None):
    return subprocess.run(
        [KUBECTL, f"--kubeconfig={KUBECONFIG}", f"--namespace={NAMESPACE}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def _backup(name):
    """The Secret as a user saves it (kubectl get -o json), minus what the server owns."""
    secret = json.loads(_kubectl("get", "secret", name, "-o", "json"))
    secret["metadata"] = {
        k: v for k, v in secret["metadata"].items() if k in ("name", "labels", "annotations")
    }
    return secret


def _restore(secret):
    _kubectl("apply", "-f", "-", stdin=json.dumps(secret))


@pytest.fixture(scope="module")
def clean(core):
    purge(core)
    yield
    purge(core)


@pytest.mark.parametrize(
    ("role", "secret"),
    [("postgres", "synapse-postgres-password"), ("signing_key", "synapse-signing-key")],
)
def test_a_secret_created_between_read_and_write_is_not_overwritten(clean, core, role, secret):
    run = run_playbook(
        "../tests/playbooks/files/create_race.yml",
        args=[
            "-e",
            json.dumps(
                {
                    "race_role": role,
                    "race_secret": secret,
                    "race_kubectl": KUBECTL,
                    "matrix_kubeconfig": KUBECONFIG,
                }
            ),
        ],
        env={"ANSIBLE_COLLECTIONS_PATH": str(REPO / "playbooks/collections")},
    )
    try:
        assert run.returncode != 0, run.describe()
        failure = run.explained_failure
        explained = f"Say that another run created it first, for Secret {secret}"
        assert failure.name.endswith(explained), run.describe()
        assert secret in failure.message, failure.message
        assert "another run created it" in failure.message, failure.message
        data = core.read_namespaced_secret(secret, NAMESPACE).data
        assert {k: base64.b64decode(v).decode() for k, v in data.items()} == {
            "marker": "created-by-the-other-run"
        }
    finally:
        _kubectl("delete", "secret", secret, "--ignore-not-found")


@pytest.fixture(scope="module")
def deployed(clean):
    run = run_playbook("site.yml")
    assert run.returncode == 0, run.describe()


@pytest.mark.parametrize(
    ("secret", "regenerate_input", "evidence"),
    [
        (
            "synapse-signing-key",
            "signing_key_regenerate_if_missing",
            "homeserver.yaml Secrets of release synapse",
        ),
        ("synapse-postgres-password", "postgres_password_regenerate_if_missing", "PersistentVolumeClaim"),
    ],
)
def test_a_deleted_secret_of_a_deployment_stops_the_run_before_any_write(
    deployed, core, apps, secret, regenerate_input, evidence
):
    saved = _backup(secret)
    _kubectl("delete", "secret", secret)
    try:
        before = namespace_state(core, apps, NAMESPACE)
        run = run_playbook("site.yml")
        assert run.returncode != 0, run.describe()
        failure = run.explained_failure
        assert failure.path.endswith("refuse_regeneration.yml:9"), run.describe()
        for expected in (
            secret,
            "Helm release synapse",
            evidence,
            "kubectl",
            regenerate_input,
        ):
            assert expected in failure.message, failure.message
        assert not any(t.changed for t in run.tasks), run.describe()
        assert namespace_state(core, apps, NAMESPACE) == before
        assert ("Secret", secret) not in before
        assert core.list_namespaced_secret(NAMESPACE, field_selector=f"metadata.name={secret}").items == []
    finally:
        _restore(saved)
    # Restored from the backup, the next run converges without changing the Secret.
    run = run_playbook("site.yml")
    assert run.returncode == 0, run.describe()
    assert core.read_namespaced_secret(secret, NAMESPACE).data == saved["data"]


def test_the_explicit_regenerate_input_makes_a_new_signing_key(deployed, core, tmp_path):
    old = core.read_namespaced_secret("synapse-signing-key", NAMESPACE).data
    _kubectl("delete", "secret", "synapse-signing-key")
    run = run_playbook("site.yml", extra_vars={"signing_key_regenerate_if_missing": True}, tmp_path=tmp_path)
    assert run.returncode == 0, run.describe()
    assert any("signing_key_regenerate_if_missing is true" in t.message for t in run.tasks), run.describe()
    new = core.read_namespaced_secret("synapse-signing-key", NAMESPACE).data
    assert new["signing.key"] != old["signing.key"]
