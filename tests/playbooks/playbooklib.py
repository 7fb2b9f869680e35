"""Run the collection's playbooks the way a user does, and read what happened.

(Helpers for tests/playbooks, also imported by tests/upgrade, tests/awx and molecule/verify;
the fixtures are in conftest.py.)

Every run uses the ansible.posix.json callback, so a test looks at structured results
(which task failed, with which module and message, what ran before it) rather than at
the human-readable output. Runs start from the repository root, where
playbooks/collections/ansible_collections/matrixk8s/synapse points back at the collection.
"""

import json
import os
import pathlib
import subprocess
import sys
import time
from dataclasses import dataclass, field

REPO = pathlib.Path(__file__).resolve().parents[2]
VENV_BIN = pathlib.Path(sys.executable).parent
ANSIBLE_PLAYBOOK = str(VENV_BIN / "ansible-playbook")
PLAYBOOKS = sorted(p.name for p in (REPO / "playbooks").glob("*.yml"))
INVENTORIES = sorted(p.name for p in (REPO / "inventories").iterdir() if (p / "hosts.yml").is_file())
LOCAL_KUBECONFIG = REPO / ".local" / "kubeconfig"
# Under pytest-xdist (`make playbooks` runs two workers; the modules that deploy are kept
# whole, in chains: CHAINS in conftest.py) each worker deploys into a namespace of its own,
# so two modules' deployments never meet. The first worker, and a serial run, use
# "matrix": inventories/local's.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
NAMESPACE = "matrix" if _WORKER == "gw0" else f"matrix-{_WORKER}"


@dataclass
class TaskResult:
    name: str
    action: str
    path: str
    result: dict

    @property
    def failed(self):
        return bool(self.result.get("failed"))

    @property
    def changed(self):
        return bool(self.result.get("changed"))

    @property
    def message(self):
        return str(self.result.get("msg", ""))


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    tasks: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    @property
    def failed_task(self):
        return next((t for t in self.tasks if t.failed), None)

    @property
    def explained_failure(self):
        """The last failed task: where a no_log task failed (its result censored), the
        rescue's fail task that explains why, else the failed task itself."""
        failed = [t for t in self.tasks if t.failed]
        return failed[-1] if failed else None

    def before_failure(self):
        """The tasks that ran before the first failure."""
        out = []
        for task in self.tasks:
            if task.failed:
                break
            out.append(task)
        return out

    @property
    def changed(self):
        return sum(host["changed"] for host in self.stats.values())

    def describe(self):
        failed = self.failed_task
        where = (
            f"{failed.name} ({failed.action}, {failed.path}): {failed.message}"
            if failed
            else "no failed task"
        )
        return f"rc={self.returncode}; first failure: {where}\nstderr:\n{self.stderr[-3000:]}"


def releases_the_lock(task):
    """A task of the namespace lock's release (roles/_common unlock, called from the
    playbooks' block/always): it runs after a failure too, and writes only the run's Lease."""
    return (
        "/roles/_common/tasks/unlock.yml" in task.path
        or task.name.startswith("Release the namespace's lock")
        or (task.action == "ansible.builtin.validate_argument_spec" and "arg spec 'unlock'" in task.name)
    )


def run_playbook(
    playbook, inventory="local", extra_vars=None, args=(), env=None, tmp_path=None, json_output=True
):
    """Run playbooks/<playbook> with inventories/<inventory>; extra_vars go through a JSON file.

    An inventory or playbook given as an absolute path (a test's own inventory directory,
    another release's installed playbook) is used as is.
    """
    inventory_path = str(inventory) if os.path.isabs(inventory) else f"inventories/{inventory}"
    playbook_path = str(playbook) if os.path.isabs(playbook) else f"playbooks/{playbook}"
    cmd = [ANSIBLE_PLAYBOOK, "-i", inventory_path, playbook_path]
    if NAMESPACE != "matrix":
        # First, so a test's own matrix_namespace (a later -e) still wins.
        cmd += ["-e", f"matrix_namespace={NAMESPACE}"]
    cmd += list(args)
    if extra_vars:
        assert tmp_path is not None, "extra_vars need tmp_path"
        vars_file = tmp_path / f"extra-vars-{len(list(tmp_path.glob('extra-vars-*')))}.json"
        vars_file.write_text(json.dumps(extra_vars))
        cmd += ["-e", f"@{vars_file}"]
    full_env = dict(os.environ)
    full_env.update(
        {
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "PATH": f"{VENV_BIN}{os.pathsep}{full_env.get('PATH', '')}",
        }
    )
    if json_output:
        full_env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    full_env.update(env or {})
    proc = subprocess.run(
        cmd, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=1800, check=False
    )
    run = Run(proc.returncode, proc.stdout, proc.stderr)
    if json_output and proc.stdout.strip().startswith("{"):
        data = json.loads(proc.stdout)
        for play in data.get("plays", []):
            for task in play.get("tasks", []):
                for result in task.get("hosts", {}).values():
                    run.tasks.append(
                        TaskResult(
                            name=task["task"]["name"],
                            action=result.get("action", ""),
                            path=task["task"].get("path", ""),
                            result=result,
                        )
                    )
        run.stats = data.get("stats", {})
    return run


def namespace_state(core, apps, namespace):
    """Every object in the namespace that a run could change, with its version: a run that
    must change nothing leaves this equal."""
    state = {}
    for kind, items in (
        ("Secret", core.list_namespaced_secret(namespace).items),
        ("ConfigMap", core.list_namespaced_config_map(namespace).items),
        ("PersistentVolumeClaim", core.list_namespaced_persistent_volume_claim(namespace).items),
        ("Service", core.list_namespaced_service(namespace).items),
    ):
        state.update({(kind, o.metadata.name): o.metadata.resource_version for o in items})
    # Kubernetes' root CA bundle, which its controller adds to a new namespace whenever it
    # gets to it (on a loaded machine, during a run): not ours, and no run writes it.
    state.pop(("ConfigMap", "kube-root-ca.crt"), None)
    # Workloads: their status moves on its own; only a spec change bumps the generation.
    for kind, items in (
        ("Deployment", apps.list_namespaced_deployment(namespace).items),
        ("StatefulSet", apps.list_namespaced_stateful_set(namespace).items),
    ):
        state.update({(kind, o.metadata.name): o.metadata.generation for o in items})
    return state


def local_cluster_api():
    """An API client of the local cluster (dev/cluster/up.sh), or skip: `make test` sets
    MATRIXK8S_REQUIRE_CLUSTER, and there the cluster tiers must run, so a skip would hide them."""
    import pytest
    from kubernetes import client, config

    try:
        api = config.new_client_from_config(config_file=str(LOCAL_KUBECONFIG))
        client.CoreV1Api(api).read_namespace("matrix", _request_timeout=5)
        return api
    except Exception:  # noqa: BLE001 - any failure means "no usable cluster"
        message = "local cluster not running (dev/cluster/up.sh); kubeconfig .local/kubeconfig"
        if os.environ.get("MATRIXK8S_REQUIRE_CLUSTER") == "1":
            pytest.fail(message)
        pytest.skip(message)


def create_namespace(core, namespace):
    """A namespace made as dev/cluster/up.sh makes "matrix" (its Pod Security labels copied)."""
    from kubernetes import client

    labels = core.read_namespace("matrix").metadata.labels or {}
    labels = {k: v for k, v in labels.items() if k.startswith("pod-security.kubernetes.io/")}
    try:
        core.create_namespace({"metadata": {"name": namespace, "labels": labels}})
    except client.ApiException as error:
        if error.status != 409:
            raise


def delete_namespace(core, namespace):
    """Delete a namespace of create_namespace's and hand its claims' volumes back, so the next
    tier (and the real node) find the pool as up.sh left it."""
    from kubernetes import client
    from volumes import return_released_volumes  # dev/cluster/, on sys.path (conftest.py)

    try:
        core.delete_namespace(namespace)
    except client.ApiException as error:
        if error.status != 404:
            raise
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            core.read_namespace(namespace)
        except client.ApiException as error:
            if error.status == 404:
                break
            raise
        time.sleep(1)
    return_released_volumes(core, namespace)


def purge(core, args=()):
    """uninstall.yml with purge=true, then the volumes it released handed back to the local
    cluster's pool. Skipped when the namespace holds nothing a run could have made (an empty
    namespace_state: no release record, Secret, ConfigMap, claim, Service or workload): a
    purge there has nothing to remove, and modules that start from an empty namespace
    often follow one that ended with a purge."""
    from kubernetes import client
    from volumes import return_released_volumes

    if namespace_state(core, client.AppsV1Api(core.api_client), NAMESPACE):
        run = run_playbook("uninstall.yml", args=["-e", "purge=true", *args])
        assert run.returncode == 0, run.describe()
    return_released_volumes(core, NAMESPACE)


def put_object(core, kind, name, body, namespace=NAMESPACE):
    """Create or replace a Secret or ConfigMap that a test provides as the user would (the
    roles only read these: TLS Secrets, a federation CA)."""
    from kubernetes.client.exceptions import ApiException

    create, replace = (
        (core.create_namespaced_secret, core.replace_namespaced_secret)
        if kind == "Secret"
        else (core.create_namespaced_config_map, core.replace_namespaced_config_map)
    )
    body = {"metadata": {"name": name}, **body}
    try:
        create(namespace, body)
    except ApiException as error:
        if error.status != 409:
            raise
        replace(name, namespace, body)
