"""The signing key Secret stays byte-identical through reconverges, drift and an uninstall.

Each test converges again and compares the Secret's stored bytes (and, where nothing may
be written, its resourceVersion) with what was there before.
"""

import time

import pytest
import verifylib


@pytest.fixture(scope="module")
def key_before(core):
    """The key Secret as the converge (and molecule's idempotence run) left it."""
    secret = core.read_namespaced_secret("synapse-signing-key", verifylib.NAMESPACE)
    return dict(secret.data), secret.metadata.resource_version


def test_signing_key_identical_after_another_converge(core, converge, key_before):
    run = converge()
    assert run.returncode == 0, run.describe()
    assert run.changed == 0, [t.name for t in run.tasks if t.changed]
    secret = core.read_namespaced_secret("synapse-signing-key", verifylib.NAMESPACE)
    assert secret.data == key_before[0]
    assert secret.metadata.resource_version == key_before[1], "the key Secret was rewritten"


def test_signing_key_identical_after_synapse_deployment_deleted_and_reconverged(
    core, apps, converge, key_before
):
    old = apps.read_namespaced_deployment("synapse", verifylib.NAMESPACE)
    apps.delete_namespaced_deployment("synapse", verifylib.NAMESPACE, propagation_policy="Foreground")
    _wait_gone(
        lambda: (
            apps.list_namespaced_deployment(verifylib.NAMESPACE, field_selector="metadata.name=synapse").items
        )
    )
    run = converge()
    assert run.returncode == 0, run.describe()
    # The synapse role re-creates it from the release (Helm alone would not): only that.
    changed = [t.name for t in run.tasks if t.changed]
    assert len(changed) == 1, changed
    assert changed[0].endswith("_common : Re-create the objects deleted outside Helm, of release synapse"), (
        changed
    )
    new = apps.read_namespaced_deployment("synapse", verifylib.NAMESPACE)
    assert new.metadata.uid != old.metadata.uid
    assert {c.type: c.status for c in new.status.conditions}.get("Available") == "True"
    assert verifylib.secret_raw(core, "synapse-signing-key") == key_before[0]


def test_signing_key_identical_after_uninstall_and_reconverge(core, apps, converge, key_before):
    kept = verifylib.kept_secrets(core)
    run = converge("uninstall.yml")
    assert run.returncode == 0, run.describe()
    assert not set(verifylib.RELEASES) & set(verifylib.helm_releases(core))
    assert not verifylib.config_secrets(core)
    # Kept by uninstall without purge, untouched.
    assert verifylib.kept_secrets(core) == kept
    run = converge()
    assert run.returncode == 0, run.describe()
    assert verifylib.secret_raw(core, "synapse-signing-key") == key_before[0]
    assert {name: data for name, (data, _) in verifylib.kept_secrets(core).items()} == {
        name: data for name, (data, _) in kept.items()
    }
    # A deployment rebuilt from nothing but kept Secrets and volumes: the order held again.
    created = apps.read_namespaced_deployment("synapse", verifylib.NAMESPACE).metadata.creation_timestamp
    assert verifylib.postgres_ready_since(core) <= created


def _wait_gone(listing, timeout=120):
    deadline = time.monotonic() + timeout
    while listing():
        assert time.monotonic() < deadline, f"still there after {timeout}s"
        time.sleep(1)
