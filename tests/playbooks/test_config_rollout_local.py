"""homeserver.yaml is rolled out without ever stranding the running pods (issue 12, finding 2).

- Each homeserver.yaml is an immutable Secret named after its digest; a changed file is a
  new Secret, the Deployment's pod template names it, and once the new revision is
  Available the older ones go (the one the release used before stays, for helm rollback).
- A run with nothing new changes nothing (no check Job, no Secret written or deleted).
- Synapse's own check runs in a Job before Helm; when that Job does not succeed, the run
  stops before Helm with the release, its pods and their Secret untouched.
- The install's failure message tells a timeout from an error Helm reported at once.
- synapse-secrets is created only: a Secret created between the read and the write stays.
- Uninstall without purge removes the homeserver.yaml Secrets (selected by label).

Skipped unless dev/cluster/up.sh is running (simulated nodes: Jobs complete without
running, so Synapse's refusal itself is proven on loopback, tests/integration, and on the
real node, tests/node/test_config_rollout.py). Shares its namespace (playbooklib.NAMESPACE) with the other
modules of its chain (CHAINS in conftest.py); starts and ends by purging (a purge of a namespace
that holds nothing is skipped: playbooklib.purge).
"""

import base64
import json
import subprocess

import pytest
import yaml
from playbooklib import NAMESPACE, REPO, namespace_state, purge, run_playbook

KUBECTL = str(REPO / ".local/bin/kubectl")
KUBECONFIG = str(REPO / ".local/kubeconfig")
HELM = str(REPO / ".local/bin/helm")
CONFIG_SELECTOR = "matrixk8s.synapse/homeserver-config=true,app.kubernetes.io/instance=synapse"
CHECK_TASK = "Run python -m synapse.config on the new homeserver.yaml"
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


def _config_secrets(core):
    """{name: Secret} of this instance's homeserver.yaml Secrets (not being deleted)."""
    return {
        s.metadata.name: s
        for s in core.list_namespaced_secret(NAMESPACE, label_selector=CONFIG_SELECTOR).items
        if s.metadata.deletion_timestamp is None
    }


def _mounted(apps):
    """The Secret the Deployment's pod template mounts at /config."""
    spec = apps.read_namespaced_deployment("synapse", NAMESPACE).spec.template.spec
    return next(v.secret.secret_name for v in spec.volumes if v.name == "config")


def _homeserver(secret):
    return yaml.safe_load(base64.b64decode(secret.data["homeserver.yaml"]).decode())


def _ran(run, name):
    return [t for t in run.tasks if name in t.name and not t.result.get("skipped")]


@pytest.fixture(scope="module")
def clean(core):
    purge(core)
    yield
    purge(core)


@pytest.fixture(scope="module")
def versions(clean, core, apps, tmp_path_factory):
    """Three homeserver.yaml versions rolled out in turn: {label: (run, Secrets, mounted)}."""
    out = {}
    for label, extra in (
        ("first", {}),
        ("second", {"synapse_homeserver": {"max_upload_size": "20M"}}),
        ("third", {"synapse_homeserver": {"max_upload_size": "30M"}}),
    ):
        run = run_playbook("site.yml", extra_vars=extra or None, tmp_path=tmp_path_factory.mktemp(label))
        assert run.returncode == 0, run.describe()
        out[label] = (run, _config_secrets(core), _mounted(apps))
    return out


def test_homeserver_yaml_is_an_immutable_secret_named_after_its_digest(versions):
    import hashlib

    _, secrets, mounted = versions["first"]
    assert list(secrets) == [mounted]
    secret = secrets[mounted]
    text = base64.b64decode(secret.data["homeserver.yaml"]).decode()
    assert mounted == "synapse-config-" + hashlib.sha256(text.encode()).hexdigest()[:10]
    assert secret.immutable is True
    labels = secret.metadata.labels
    assert {
        "app.kubernetes.io/part-of": "matrixk8s-synapse",
        "app.kubernetes.io/component": "homeserver",
        "app.kubernetes.io/instance": "synapse",
        "matrixk8s.synapse/homeserver-config": "true",
    }.items() <= labels.items()


def test_a_changed_homeserver_yaml_is_a_new_secret_that_the_pod_template_names(versions):
    first = versions["first"][2]
    run, secrets, mounted = versions["second"]
    assert mounted != first
    assert _homeserver(secrets[mounted])["max_upload_size"] == "20M"
    # Synapse's check ran before Helm, and its Job is gone.
    checked = _ran(run, CHECK_TASK)
    assert checked, run.describe()
    helm = [t for t in run.tasks if t.name.endswith("as release synapse") and not t.result.get("skipped")]
    assert helm
    assert run.tasks.index(checked[0]) < run.tasks.index(helm[0])
    # The one the release used before stays, for helm rollback.
    assert set(secrets) == {first, mounted}


def test_once_available_the_older_secrets_are_gone(versions, batch):
    first, second = versions["first"][2], versions["second"][2]
    run, secrets, mounted = versions["third"]
    assert _homeserver(secrets[mounted])["max_upload_size"] == "30M"
    assert set(secrets) == {second, mounted}, set(secrets)
    assert first not in secrets
    removed = _ran(run, "Remove the Secrets of older homeserver.yaml files")
    assert removed
    helm = next(i for i, t in enumerate(run.tasks) if t.name.endswith("as release synapse"))
    assert run.tasks.index(removed[0]) > helm
    jobs = batch.list_namespaced_job(
        NAMESPACE, label_selector="app.kubernetes.io/component=config-check"
    ).items
    assert not [j.metadata.name for j in jobs if j.metadata.deletion_timestamp is None]


def test_a_second_run_changes_nothing_and_runs_no_check(versions, core, apps, tmp_path):
    before = namespace_state(core, apps, NAMESPACE)
    run = run_playbook(
        "site.yml", extra_vars={"synapse_homeserver": {"max_upload_size": "30M"}}, tmp_path=tmp_path
    )
    assert run.returncode == 0, run.describe()
    assert run.changed == 0, [t.name for t in run.tasks if t.changed]
    assert not _ran(run, CHECK_TASK)
    assert namespace_state(core, apps, NAMESPACE) == before


def test_a_check_that_does_not_succeed_stops_before_helm_and_touches_nothing(versions, core, apps, tmp_path):
    """The check Job cannot finish (a node selector no node matches, a 3 s deadline): on the
    simulated nodes the stand-in for Synapse refusing the file. The run stops before Helm,
    the new Secret is removed again, and the Deployment keeps its Secret."""
    mounted = _mounted(apps)
    before = namespace_state(core, apps, NAMESPACE)
    run = run_playbook(
        "site.yml",
        extra_vars={
            "synapse_homeserver": {"max_upload_size": "40M"},
            "synapse_node_selector": {"matrixk8s.test/no-such-node": "true"},
            "synapse_config_check_timeout": 3,
        },
        tmp_path=tmp_path,
    )
    assert run.returncode != 0, run.describe()
    failure = run.explained_failure
    assert failure.name.endswith("Say why Synapse refused the new homeserver.yaml"), run.describe()
    for expected in ("python -m synapse.config", "did not run to the end within 3s", "not touched", mounted):
        assert expected in failure.message, failure.message
    assert not [t for t in run.tasks if t.name.endswith("as release synapse")]
    assert _mounted(apps) == mounted
    assert namespace_state(core, apps, NAMESPACE) == before


def test_an_error_helm_reports_at_once_is_not_called_a_timeout(versions, apps, tmp_path):
    """Requests above limits: the API server refuses the Deployment at once."""
    generation = apps.read_namespaced_deployment("synapse", NAMESPACE).metadata.generation
    run = run_playbook(
        "site.yml",
        extra_vars={
            "synapse_homeserver": {"max_upload_size": "30M"},
            "synapse_resources": {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}},
        },
        tmp_path=tmp_path,
    )
    assert run.returncode != 0, run.describe()
    message = run.explained_failure.message
    assert "Helm refused to install release synapse" in message, message
    assert "did not become Available" not in message
    assert apps.read_namespaced_deployment("synapse", NAMESPACE).metadata.generation == generation
    # Helm recorded a failed revision; the fixed values are installed again. (And the next
    # test's helm rollback returns to this deployed revision, not the failed one.)
    fixed = run_playbook(
        "site.yml", extra_vars={"synapse_homeserver": {"max_upload_size": "30M"}}, tmp_path=tmp_path
    )
    assert fixed.returncode == 0, fixed.describe()


def test_a_timeout_says_so_and_how_to_roll_back(versions, core, apps, tmp_path):
    """A new homeserver.yaml whose pod can never be scheduled: Helm's wait runs out. The
    message says so and names helm rollback; the rollback finds the previous Secret."""
    mounted = _mounted(apps)
    run = run_playbook(
        "site.yml",
        extra_vars={
            "synapse_homeserver": {"max_upload_size": "50M"},
            "synapse_wait_timeout": "3s",
            # Not for the check Job: its node selector comes from the same values, so the
            # affinity (which the Job does not copy) keeps the pod unscheduled instead.
            "synapse_affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "matrixk8s.test/no-such-node", "operator": "Exists"}
                                ]
                            }
                        ]
                    }
                }
            },
        },
        tmp_path=tmp_path,
    )
    assert run.returncode != 0, run.describe()
    message = run.explained_failure.message
    assert "did not become Available within 3s" in message, message
    assert f"helm -n {NAMESPACE} rollback synapse" in message
    assert mounted in message
    assert mounted in _config_secrets(core)
    subprocess.run(
        [
            HELM,
            "--kubeconfig",
            KUBECONFIG,
            "-n",
            NAMESPACE,
            "rollback",
            "synapse",
            "--wait",
            "--timeout",
            "2m",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=180,
    )
    assert _mounted(apps) == mounted
    # And the next ordinary run converges.
    again = run_playbook(
        "site.yml", extra_vars={"synapse_homeserver": {"max_upload_size": "30M"}}, tmp_path=tmp_path
    )
    assert again.returncode == 0, again.describe()
    assert _mounted(apps) == mounted


def test_uninstall_without_purge_removes_the_homeserver_yaml_secrets(versions, core):
    assert _config_secrets(core)
    kept = base64.b64decode(core.read_namespaced_secret("synapse-secrets", NAMESPACE).data["form_secret"])
    run = run_playbook("uninstall.yml")
    assert run.returncode == 0, run.describe()
    assert (
        base64.b64decode(core.read_namespaced_secret("synapse-secrets", NAMESPACE).data["form_secret"])
        == kept
    )
    assert not _config_secrets(core)


def test_synapse_secrets_created_between_read_and_write_is_not_overwritten(clean, core):
    purge(core)
    # The database and the key, as site.yml's earlier roles leave them.
    first = run_playbook("site.yml", args=["--tags", "postgres,signing_key"])
    assert first.returncode == 0, first.describe()
    run = run_playbook(
        "../tests/playbooks/files/create_race.yml",
        args=[
            "-e",
            json.dumps(
                {
                    "race_role": "synapse",
                    "race_secret": "synapse-secrets",
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
        assert failure.name.endswith("Say that another run created it first, for Secret synapse-secrets"), (
            run.describe()
        )
        assert "another run created it" in failure.message, failure.message
        data = core.read_namespaced_secret("synapse-secrets", NAMESPACE).data
        assert {k: base64.b64decode(v).decode() for k, v in data.items()} == {
            "marker": "created-by-the-other-run"
        }
        # Nothing after the refused write: no homeserver.yaml, no release.
        assert not _config_secrets(core)
    finally:
        _kubectl("delete", "secret", "synapse-secrets", "--ignore-not-found")


@pytest.fixture(scope="module")
def batch(local_cluster):
    from kubernetes import client

    return client.BatchV1Api(local_cluster)
