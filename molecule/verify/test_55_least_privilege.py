"""Least privilege on the converged deployment (issue 12): the namespace enforces Pod Security
"restricted" (the API server's admission does, even with simulated nodes), so with the token
of docs/awx-rbac.yml a privileged pod and a hostPath pod are refused while our own pods run;
and every release has its NetworkPolicies, PostgreSQL's open to the Synapse pods only.
"""

import time

import awx_credentials
import pytest
import verifylib

PSA = "pod-security.kubernetes.io/"


class _Token(str):
    def __repr__(self):
        return "<service account token>"


def _remove_pod_security_labels(core):
    """The scenario's cluster creates the namespace labelled; these tests start without."""
    labels = core.read_namespace(verifylib.NAMESPACE).metadata.labels or {}
    patch = {"metadata": {"labels": {k: None for k in labels if k.startswith(PSA)}}}
    core.patch_namespace(verifylib.NAMESPACE, patch)
    assert not any(k.startswith(PSA) for k in core.read_namespace(verifylib.NAMESPACE).metadata.labels or {})


@pytest.fixture(scope="module")
def token(kube, core):
    # docs/awx-rbac.yml, applied by the administrator, is what labels the namespace here.
    _remove_pod_security_labels(core)
    awx_credentials.apply_rbac(kube)
    yield _Token(awx_credentials.mint_token(core))
    awx_credentials.delete_rbac(kube)


def test_site_yml_makes_the_namespace_enforce_restricted(core, converge):
    _remove_pod_security_labels(core)
    run = converge()
    assert run.returncode == 0, run.describe()
    labels = core.read_namespace(verifylib.NAMESPACE).metadata.labels or {}
    assert labels.get(PSA + "enforce") == "restricted", labels
    assert labels.get(PSA + "warn") == "restricted", labels
    assert labels.get(PSA + "audit") == "restricted", labels


def test_our_pods_were_admitted(apps):
    # Admission checked each pod at creation: a workload whose pods were refused has none.
    for workload in apps.list_namespaced_deployment(
        verifylib.NAMESPACE, label_selector=verifylib.PART_OF
    ).items:
        assert (workload.status.ready_replicas or 0) >= 1, workload.metadata.name
    for workload in apps.list_namespaced_stateful_set(
        verifylib.NAMESPACE, label_selector=verifylib.PART_OF
    ).items:
        assert (workload.status.ready_replicas or 0) >= 1, workload.metadata.name


def _deployment(name, pod_spec):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"matrixk8s-test": "pod-security"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"matrixk8s-test": name}},
            "template": {"metadata": {"labels": {"matrixk8s-test": name}}, "spec": pod_spec},
        },
    }


PRIVILEGED = {"containers": [{"name": "x", "image": "busybox", "securityContext": {"privileged": True}}]}
HOST_PATH = {
    "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
    "containers": [
        {
            "name": "x",
            "image": "busybox",
            "volumeMounts": [{"name": "host", "mountPath": "/host"}],
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 1000,
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            },
        }
    ],
}


@pytest.mark.parametrize(
    ("name", "pod_spec", "reason"),
    [
        ("psa-privileged", PRIVILEGED, "privileged"),
        ("psa-host-path", HOST_PATH, "hostPath"),
    ],
)
def test_the_deployer_token_cannot_run_a_privileged_or_host_path_pod(kube, token, name, pod_spec, reason):
    from kubernetes import client

    api = awx_credentials.token_client(kube, token)
    apps = client.AppsV1Api(api)
    core = client.CoreV1Api(api)
    apps.create_namespaced_deployment(verifylib.NAMESPACE, _deployment(name, pod_spec))
    try:
        # The ReplicaSet controller tries to create the pod; admission refuses it and the
        # ReplicaSet says why (condition ReplicaFailure, "violates PodSecurity").
        deadline = time.monotonic() + 60
        message = ""
        while time.monotonic() < deadline and "violates PodSecurity" not in message:
            time.sleep(1)
            sets = apps.list_namespaced_replica_set(
                verifylib.NAMESPACE, label_selector=f"matrixk8s-test={name}"
            )
            message = " ".join(
                c.message or ""
                for rs in sets.items
                for c in (rs.status.conditions or [])
                if c.type == "ReplicaFailure"
            )
        assert 'violates PodSecurity "restricted:latest"' in message, message
        assert reason in message, message
        pods = core.list_namespaced_pod(verifylib.NAMESPACE, label_selector=f"matrixk8s-test={name}")
        assert pods.items == []
    finally:
        apps.delete_namespaced_deployment(name, verifylib.NAMESPACE, propagation_policy="Foreground")


def test_every_release_has_its_network_policies(kube):
    from kubernetes import client

    policies = {
        p.metadata.name: p
        for p in client.NetworkingV1Api(kube).list_namespaced_network_policy(verifylib.NAMESPACE).items
    }
    for release in verifylib.RELEASES:
        deny = policies[f"{release}-deny-ingress"]
        assert deny.spec.pod_selector.match_labels == {"app.kubernetes.io/instance": release}
        assert deny.spec.ingress is None
        assert deny.spec.policy_types == ["Ingress"]
        assert f"{release}-allow-ingress" in policies
    postgres = policies["synapse-postgres-allow-ingress"].spec.ingress
    assert [p.port for rule in postgres for p in rule.ports] == ["postgresql"]
    assert [peer.pod_selector.match_labels for rule in postgres for peer in rule._from] == [
        {"app.kubernetes.io/instance": "synapse", "app.kubernetes.io/component": "homeserver"}
    ]
