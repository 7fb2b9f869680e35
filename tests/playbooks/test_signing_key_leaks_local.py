"""The private signing key never reaches Ansible's output, whatever is wrong with it.

Two runs of site.yml against the local cluster, each with a key whose fields are in the
wrong order (the seed where the algorithm or the version belongs):
- as the inventory's signing_key_value: refused in the validate step, naming the variable;
- stored in the signing key Secret: refused in play 1's read, naming the Secret.
The seed appears in neither stdout, stderr nor the ansible.posix.json callback's output, and
the runs change nothing in the namespace (each gets a namespace of its own).

Skipped unless dev/cluster/up.sh is running.
"""

import base64
import secrets
import time

import pytest
from playbooklib import namespace_state, run_playbook

NAMESPACE = "matrix-key-leaks"
PIECE = 8


def _seed():
    return base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")


SWAPS = {
    "seed second": lambda seed: f"ed25519 {seed} a_x",
    "seed first": lambda seed: f"{seed} ed25519 a_x",
    "seed first, version last": lambda seed: f"a_x {seed} ed25519",
}


@pytest.fixture
def namespace(core):
    """An empty namespace of this module's own, deleted afterwards."""
    from kubernetes import client

    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE)))
    yield NAMESPACE
    core.delete_namespace(NAMESPACE)
    # The next test creates it again: wait until it is gone.
    from kubernetes.client.exceptions import ApiException

    for _attempt in range(120):
        try:
            core.read_namespace(NAMESPACE)
        except ApiException as exc:
            if exc.status == 404:
                return
            raise
        time.sleep(0.5)


def _assert_seed_absent(seed, *outputs):
    for output in outputs:
        for start in range(len(seed) - PIECE + 1):
            assert seed[start : start + PIECE] not in output, "a piece of the seed was printed"


def _both_callbacks(tmp_path, extra_vars):
    """The run with the json callback, then with the default one (what a terminal shows)."""
    as_json = run_playbook("site.yml", extra_vars=extra_vars, tmp_path=tmp_path)
    as_text = run_playbook("site.yml", extra_vars=extra_vars, tmp_path=tmp_path, json_output=False)
    return as_json, as_text


@pytest.mark.parametrize("swap", sorted(SWAPS))
def test_swapped_signing_key_value_is_refused_without_printing_it(core, apps, namespace, tmp_path, swap):
    seed = _seed()
    before = namespace_state(core, apps, NAMESPACE)
    as_json, as_text = _both_callbacks(
        tmp_path, {"matrix_namespace": namespace, "signing_key_value": SWAPS[swap](seed)}
    )
    for run in (as_json, as_text):
        assert run.returncode != 0
        _assert_seed_absent(seed, run.stdout, run.stderr)
    failure = as_json.explained_failure
    assert failure is not None, as_json.describe()
    assert failure.message.startswith("signing_key_value: the "), failure.message
    assert "never shown" in failure.message
    assert "signing_key_value" in as_text.stdout
    assert namespace_state(core, apps, NAMESPACE) == before


def test_corrupted_stored_key_is_refused_naming_the_secret_without_printing_it(
    core, apps, namespace, tmp_path
):
    from kubernetes import client

    seed = _seed()
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="synapse-signing-key"),
            data={"signing.key": base64.b64encode(SWAPS["seed first"](seed).encode()).decode()},
        ),
    )
    before = namespace_state(core, apps, NAMESPACE)
    as_json, as_text = _both_callbacks(tmp_path, {"matrix_namespace": namespace})
    for run in (as_json, as_text):
        assert run.returncode != 0
        _assert_seed_absent(seed, run.stdout, run.stderr)
    failure = as_json.explained_failure
    assert failure is not None, as_json.describe()
    assert "Secret synapse-signing-key exists but does not hold a usable key" in failure.message
    assert "key signing.key of Secret synapse-signing-key: the first field" in failure.message
    assert "Secret synapse-signing-key" in as_text.stdout
    assert namespace_state(core, apps, NAMESPACE) == before
