"""Health and drift on the live local cluster (issue 12, "Health" and admin passwords).

- A Synapse pod that crash-loops with unchanged values: the next run fails, naming the pod,
  its waiting reason, exit code and restarts, and calls no Helm.
- Objects of a release deleted outside Helm (Services, the Ingress, the well-known
  ConfigMap), not only its Deployment: the next run re-creates them as Helm's.
- A failed synapse release whose cause was fixed outside the values: the next run, with the
  same values, repairs it (Helm alone would leave it failed).
- An admin's changed password: a Job sets it through the admin API, reading it from the
  password Secret; the record holds a keyed digest, never the password; an unchanged
  password starts no Job.

kwok plays the kubelet: pods become Ready, Jobs complete, no container runs. A pod looks
crash-looping when its status subresource says so; kwok's pod-ready stage only acts on a
pod whose Initialized condition is True and no container of which is running, so the
patched status says Initialized=False and kwok leaves it alone (checked below: the status
stays as patched until the run ends).

Skipped unless dev/cluster/up.sh is running. Shares its worker's namespace
(playbooklib.NAMESPACE) with the other modules of its chain (CHAINS in conftest.py) and leaves
the deployment converged for the next.
"""

import base64
import datetime
import json
import subprocess
import threading
import time

import pytest
from playbooklib import NAMESPACE, REPO, run_playbook

pytestmark = pytest.mark.usefixtures("one_deployment")


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


def _secret(core, name):
    data = core.read_namespaced_secret(name, NAMESPACE).data or {}
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


def _until(what, condition, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def deployed(core):
    """A converged deployment (each test repairs what it broke; left for the next module
    of its chain: CHAINS in conftest.py)."""
    run = run_playbook("site.yml")
    assert run.returncode == 0, run.describe()


def _synapse_pods(core):
    return [
        p
        for p in core.list_namespaced_pod(
            NAMESPACE, label_selector="app.kubernetes.io/instance=synapse"
        ).items
        if p.metadata.deletion_timestamp is None
    ]


def _crash_loop(core, pod):
    """Make the pod look as a crash-looping Synapse does (status subresource)."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status = {
        "status": {
            "conditions": [
                {"type": "Initialized", "status": "False", "lastTransitionTime": now},
                {"type": "Ready", "status": "False", "lastTransitionTime": now},
                {"type": "ContainersReady", "status": "False", "lastTransitionTime": now},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            ],
            "containerStatuses": [
                {
                    "name": "synapse",
                    "image": "matrixk8s.test/synapse",
                    "imageID": "",
                    "ready": False,
                    "started": False,
                    "restartCount": 6,
                    "state": {
                        "waiting": {
                            "reason": "CrashLoopBackOff",
                            "message": "back-off 5m0s restarting failed container=synapse",
                        }
                    },
                    "lastState": {
                        "terminated": {"reason": "Error", "exitCode": 1, "startedAt": now, "finishedAt": now}
                    },
                }
            ],
        }
    }
    core.patch_namespaced_pod_status(pod, NAMESPACE, status)


def test_crash_looping_synapse_with_unchanged_values_fails_naming_the_pod(deployed, core, apps, tmp_path):
    (pod,) = [p.metadata.name for p in _synapse_pods(core)]
    releases = _releases()
    _crash_loop(core, pod)
    try:
        _until(
            "the Deployment to count the pod unready",
            lambda: not apps.read_namespaced_deployment("synapse", NAMESPACE).status.ready_replicas,
        )
        run = run_playbook(
            "site.yml",
            extra_vars={"synapse_wait_timeout": "5s"},
            args=["--tags", "synapse"],
            tmp_path=tmp_path,
        )
        assert run.returncode != 0, run.describe()
        failed = run.explained_failure
        assert failed.path.split(":")[0].endswith("roles/_common/tasks/install_chart.yml"), run.describe()
        message = failed.message
        assert "Synapse did not become Available within 5s" in message
        assert f"pod {pod} (Running): container synapse: CrashLoopBackOff" in message, message
        assert "last exit: Error, exit code 1" in message, message
        assert "6 restarts" in message, message
        assert f"`kubectl -n {NAMESPACE} describe pod {pod}`" in message, message
        assert f"`kubectl -n {NAMESPACE} logs {pod} -c synapse --previous`" in message, message
        helm = [t for t in run.tasks if t.action == "kubernetes.core.helm" and not t.result.get("skipped")]
        assert not helm, "values are current: Helm cannot fix a crash loop"
        assert _releases() == releases
        # kwok did not re-assert the status meanwhile: the run saw what a crash loop shows.
        live = core.read_namespaced_pod_status(pod, NAMESPACE).status.container_statuses[0]
        assert live.state.waiting.reason == "CrashLoopBackOff"
    finally:
        core.delete_namespaced_pod(pod, NAMESPACE, grace_period_seconds=0)
    _until(
        "a new Ready Synapse pod",
        lambda: apps.read_namespaced_deployment("synapse", NAMESPACE).status.ready_replicas,
    )
    fixed = run_playbook("site.yml", args=["--tags", "synapse"])
    assert fixed.returncode == 0, fixed.describe()
    assert fixed.changed == 0, [t.name for t in fixed.tasks if t.changed]


def test_objects_of_a_release_deleted_outside_helm_are_recreated(deployed, core, local_cluster):
    from kubernetes import client

    net = client.NetworkingV1Api(local_cluster)
    before = {
        ("Service", "synapse"): core.read_namespaced_service("synapse", NAMESPACE),
        ("Service", "well-known"): core.read_namespaced_service("well-known", NAMESPACE),
        ("ConfigMap", "well-known"): core.read_namespaced_config_map("well-known", NAMESPACE),
        ("Ingress", "synapse"): net.read_namespaced_ingress("synapse", NAMESPACE),
    }
    core.delete_namespaced_service("synapse", NAMESPACE)
    core.delete_namespaced_service("well-known", NAMESPACE)
    core.delete_namespaced_config_map("well-known", NAMESPACE)
    net.delete_namespaced_ingress("synapse", NAMESPACE)
    releases = _releases()

    run = run_playbook("site.yml")
    assert run.returncode == 0, run.describe()
    after = {
        ("Service", "synapse"): core.read_namespaced_service("synapse", NAMESPACE),
        ("Service", "well-known"): core.read_namespaced_service("well-known", NAMESPACE),
        ("ConfigMap", "well-known"): core.read_namespaced_config_map("well-known", NAMESPACE),
        ("Ingress", "synapse"): net.read_namespaced_ingress("synapse", NAMESPACE),
    }
    for key, obj in after.items():
        old = before[key]
        assert obj.metadata.uid != old.metadata.uid, key
        release = key[1]
        assert obj.metadata.annotations["meta.helm.sh/release-name"] == release, key
        assert obj.metadata.annotations["meta.helm.sh/release-namespace"] == NAMESPACE, key
        assert obj.metadata.labels["app.kubernetes.io/managed-by"] == "Helm", key
        assert obj.metadata.labels == old.metadata.labels, key
    assert after[("ConfigMap", "well-known")].data == before[("ConfigMap", "well-known")].data
    assert (
        after[("Service", "synapse")].spec.ports[0].port == before[("Service", "synapse")].spec.ports[0].port
    )
    # As the revision rendered them: no Helm upgrade, no new revision.
    assert _releases() == releases
    again = run_playbook("site.yml")
    assert again.returncode == 0, again.describe()
    assert again.changed == 0, [t.name for t in again.tasks if t.changed]


def test_failed_synapse_release_with_unchanged_values_is_repaired(deployed, core, apps, tmp_path):
    """The rollout fails for a cause outside the values (no node has the label Synapse's
    selector asks for); the cause is fixed in the cluster; the re-run has the same values."""
    selector = {"synapse_node_selector": {"matrixk8s.test/synapse": "yes"}, "synapse_wait_timeout": "5s"}
    broken = run_playbook("site.yml", extra_vars=selector, args=["--tags", "synapse"], tmp_path=tmp_path)
    assert broken.returncode != 0
    assert "Synapse did not become Available within 5s" in broken.explained_failure.message
    assert "not scheduled" in broken.explained_failure.message, broken.explained_failure.message
    revision, status = _releases()["synapse"]
    assert status == "failed"

    node = "kwok-node-0"
    core.patch_node(node, {"metadata": {"labels": {"matrixk8s.test/synapse": "yes"}}})
    try:
        _until(
            "Synapse Ready on the labelled node",
            lambda: apps.read_namespaced_deployment("synapse", NAMESPACE).status.ready_replicas,
        )
        fixed = run_playbook("site.yml", extra_vars=selector, args=["--tags", "synapse"], tmp_path=tmp_path)
        assert fixed.returncode == 0, fixed.describe()
        assert _releases()["synapse"] == (revision + 1, "deployed")
        again = run_playbook("site.yml", extra_vars=selector, args=["--tags", "synapse"], tmp_path=tmp_path)
        assert again.returncode == 0, again.describe()
        assert again.changed == 0, [t.name for t in again.tasks if t.changed]
    finally:
        back = run_playbook("site.yml", args=["--tags", "synapse"])
        core.patch_node(node, {"metadata": {"labels": {"matrixk8s.test/synapse": None}}})
    assert back.returncode == 0, back.describe()
    assert _releases()["synapse"][1] == "deployed"


class _JobWatch:
    """Every Job created in the namespace while it runs (the role deletes its Jobs at the
    end of the run, so the spec is caught when it is created)."""

    def __init__(self, local_cluster):
        from kubernetes import client, watch

        self._batch = client.BatchV1Api(local_cluster)
        self._watch = watch.Watch()
        self.created = []
        start = self._batch.list_namespaced_job(NAMESPACE).metadata.resource_version
        self._thread = threading.Thread(target=self._run, args=(start,), daemon=True)
        self._thread.start()

    def _run(self, resource_version):
        try:
            for event in self._watch.stream(
                self._batch.list_namespaced_job,
                NAMESPACE,
                resource_version=resource_version,
                timeout_seconds=600,
            ):
                if event["type"] == "ADDED":
                    self.created.append(event["object"])
        except Exception:  # noqa: BLE001 - stop() closes the stream under it
            if not self._watch._stop:
                raise

    def stop(self):
        time.sleep(1)  # let the last events arrive
        self._watch.stop()


def test_a_changed_admin_password_is_applied_through_the_admin_api(deployed, core, local_cluster, tmp_path):
    from ansible_collections.matrixk8s.synapse.plugins.module_utils.password_digest import password_digest

    user_id = "@admin:example.test"
    key = _secret(core, "synapse-secrets")["registration_shared_secret"]
    record = core.read_namespaced_config_map("synapse-admin-users", NAMESPACE).data
    generated = _secret(core, "synapse-admin-admin")["password"]
    assert record["admin"] == "admin"
    assert record["admin.password-hmac"] == password_digest(generated, key, user_id)
    assert generated not in json.dumps(record)

    new_password = "correct-horse-" + base64.b32encode(time.time_ns().to_bytes(8, "big")).decode().lower()
    changed_admins = {"synapse_admin_users": [{"username": "admin", "password": new_password}]}
    watch = _JobWatch(local_cluster)
    try:
        run = run_playbook(
            "site.yml", extra_vars=changed_admins, args=["--tags", "synapse"], tmp_path=tmp_path
        )
    finally:
        watch.stop()
    assert run.returncode == 0, run.describe()
    assert new_password not in run.stdout + run.stderr
    (job,) = [j for j in watch.created if j.metadata.name == "synapse-password-admin"]
    assert not [j.metadata.name for j in watch.created if "register" in j.metadata.name]
    pod = job.spec.template.spec
    (container,) = pod.containers
    assert container.command[:2] == ["python", "-c"]
    assert "/_synapse/admin/v2/users/" in container.command[2]
    assert container.command[3:] == [f"http://synapse.{NAMESPACE}.svc.cluster.local:8008", user_id, "true"]
    assert not container.env or all(e.value_from or e.name == "HOME" for e in container.env)
    secrets = {v.name: v.secret for v in pod.volumes if v.secret}
    assert secrets["admin-password"].secret_name == "synapse-admin-admin"
    assert [i.key for i in secrets["admin-password"].items] == ["password"]
    assert secrets["synapse-secrets"].secret_name == "synapse-secrets"
    spec_text = json.dumps(local_cluster.sanitize_for_serialization(job))
    assert new_password not in spec_text
    assert base64.b64encode(new_password.encode()).decode() not in spec_text
    # The inline password is what the mounted Secret holds; the record has its digest only.
    assert _secret(core, "synapse-admin-admin")["password"] == new_password
    record = core.read_namespaced_config_map("synapse-admin-users", NAMESPACE).data
    assert record["admin.password-hmac"] == password_digest(new_password, key, user_id)
    assert new_password not in json.dumps(record)

    # Unchanged: no Job, nothing changed.
    watch = _JobWatch(local_cluster)
    try:
        same = run_playbook(
            "site.yml", extra_vars=changed_admins, args=["--tags", "synapse"], tmp_path=tmp_path
        )
    finally:
        watch.stop()
    assert same.returncode == 0, same.describe()
    assert same.changed == 0, [t.name for t in same.tasks if t.changed]
    assert not watch.created, [j.metadata.name for j in watch.created]
    # Back to the inventory (no inline password): the Secret keeps the applied password.
    back = run_playbook("site.yml", args=["--tags", "synapse"])
    assert back.returncode == 0, back.describe()
    assert back.changed == 0, [t.name for t in back.tasks if t.changed]
