"""site.yml and uninstall.yml with AWX-style credentials: K8S_AUTH_* only, no kubeconfig.

A ServiceAccount with the RBAC of docs/awx-rbac.yml, a token from the TokenRequest API,
and an inventory without matrix_kubeconfig: what an AWX job template gives the playbooks.
"""

import awx_credentials
import pytest
import verifylib


class _Token(str):
    """The bearer token; its repr stays out of pytest's failure reports."""

    def __repr__(self):
        return "<service account token>"


@pytest.fixture(scope="module")
def token(kube, core):
    awx_credentials.apply_rbac(kube)
    yield _Token(awx_credentials.mint_token(core))
    # Deleting the account also invalidates the token (it is bound to the account).
    awx_credentials.delete_rbac(kube)


@pytest.fixture
def awx_run(kube, token, tmp_path, monkeypatch, converge):
    """Run a playbook as an AWX job would (optionally with another token)."""
    for name in ("K8S_AUTH_KUBECONFIG", "K8S_AUTH_CONTEXT", "K8S_AUTH_USERNAME", "K8S_AUTH_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    inventory = awx_credentials.inventory_without_kubeconfig(tmp_path)
    from playbooklib import run_playbook

    def run(playbook="site.yml", api_key=None):
        env = awx_credentials.credential_env(kube, api_key or token, tmp_path)
        return run_playbook(playbook, inventory=str(inventory), env=env, tmp_path=tmp_path)

    return run


def _kube_tasks(run):
    return [t for t in run.tasks if t.action.startswith("kubernetes.core.")]


def test_awx_credential_converge_changes_nothing(awx_run, token):
    run = awx_run()
    assert run.returncode == 0, run.describe()
    assert run.changed == 0, [t.name for t in run.tasks if t.changed]
    assert token not in run.stdout + run.stderr
    # Every role read the cluster with the token (its lookups, through _common's read) and
    # found its release current, so no helm call was needed; the next test installs with it.
    reads = {
        "the namespace, the password Secret and the release": "postgres",
        "the namespace and the signing key Secret": "signing_key",
        "the namespace, the Secrets Synapse needs and the release": "synapse",
        "the namespace, the release and the Ingress of mode synapse": "well_known",
    }
    read_by = {
        reads.get(t.name.split(" : Read ", 1)[-1].split(", in namespace")[0], t.name)
        for t in run.tasks
        if "_common/tasks/read.yml" in t.path
        and " : Read the namespace" in t.name
        and not t.result.get("skipped")
    }
    assert read_by == {"postgres", "signing_key", "synapse", "well_known"}, read_by
    # No module was given a kubeconfig or context (the inventory sets none; HOME and
    # KUBECONFIG lead nowhere), so K8S_AUTH_* is what reached the API.
    for task in _kube_tasks(run):
        args = task.result.get("invocation", {}).get("module_args", {})
        assert args.get("kubeconfig") is None, task.name
        assert args.get("context") is None, task.name


def test_wrong_token_fails_at_the_first_cluster_task_and_changes_nothing(awx_run, token):
    run = awx_run(api_key="not-a-valid-token")
    assert run.returncode != 0
    failed = run.failed_task
    assert failed is not None, run.describe()
    assert "_common/tasks/read.yml" in failed.path, run.describe()
    assert run.changed == 0
    assert not [t for t in run.tasks if "apply.yml" in t.path or "install_chart.yml" in t.path]


def test_awx_account_reaches_only_its_namespace(kube, token):
    from kubernetes import client

    auth = client.AuthorizationV1Api(awx_credentials.token_client(kube, token))

    def allowed(verb, resource, namespace=None, name=None):
        review = client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(
                    verb=verb, resource=resource, namespace=namespace, name=name
                )
            )
        )
        return auth.create_self_subject_access_review(review).status.allowed

    assert allowed("create", "secrets", verifylib.NAMESPACE)
    assert allowed("get", "namespaces", name=verifylib.NAMESPACE)
    assert not allowed("list", "secrets", "kube-system")
    assert not allowed("get", "namespaces", name="kube-system")
    assert not allowed("list", "namespaces")
    assert not allowed("create", "clusterroles")


def test_awx_credential_uninstalls_and_installs_with_helm(awx_run, core, apps):
    """helm uninstall and helm install under the token; the kept Secrets stay byte-identical.

    Without the record of registered admins the run registers them again (a Job in the
    cluster; --exists-ok makes that harmless), so the token's Job rights are used too.
    """
    kept = verifylib.kept_secrets(core)
    run = awx_run("uninstall.yml")
    assert run.returncode == 0, run.describe()
    assert not set(verifylib.RELEASES) & set(verifylib.helm_releases(core))
    core.delete_namespaced_config_map("synapse-admin-users", verifylib.NAMESPACE)
    run = awx_run()
    assert run.returncode == 0, run.describe()
    releases = verifylib.helm_releases(core)
    assert {name: releases[name][1] for name in verifylib.RELEASES} == dict.fromkeys(
        verifylib.RELEASES, "deployed"
    )
    deploy = apps.read_namespaced_deployment("synapse", verifylib.NAMESPACE)
    assert {c.type: c.status for c in deploy.status.conditions}.get("Available") == "True"
    assert {n: d for n, (d, _) in verifylib.kept_secrets(core).items()} == {
        n: d for n, (d, _) in kept.items()
    }
    assert [t for t in run.tasks if t.action == "kubernetes.core.k8s" and "Job" in t.name and t.changed]
    assert (
        "admin" in core.read_namespaced_config_map("synapse-admin-users", verifylib.NAMESPACE).data.values()
    )
