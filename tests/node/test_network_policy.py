"""NetworkPolicies are enforced on the real node (kube-network-policies, dev/node/network-policies):
a pod reaches a server until a policy admits only labelled clients; then an unlabelled pod
is refused and a labelled one still gets through. Connections go to the server's Service
by its DNS name, so kube-proxy's rewriting and CoreDNS are on the path as in the charts.

Everything lives in a namespace of its own, deleted at the end.
"""

from __future__ import annotations

import json
import secrets

import pytest

from .nodelib import kubectl, pod_can_connect, wait_until

SERVER_PORT = 8080


@pytest.fixture(scope="module")
def namespace():
    name = f"netpol-{secrets.token_hex(3)}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def server(namespace):
    """nginx behind a Service; returns the Service's DNS name."""
    image = "matrixk8s.local/nginx-unprivileged:1.22"
    kubectl("-n", namespace, "create", "deployment", "server", f"--image={image}", f"--port={SERVER_PORT}")
    kubectl("-n", namespace, "expose", "deployment", "server", f"--port={SERVER_PORT}")
    kubectl("-n", namespace, "rollout", "status", "deployment/server", "--timeout=90s", timeout=100)
    return f"server.{namespace}.svc.cluster.local"


def only_labelled_clients(namespace: str) -> dict:
    """Ingress to the server only from pods labelled access=allowed, on its port."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "server-from-allowed-only", "namespace": namespace},
        "spec": {
            "podSelector": {"matchLabels": {"app": "server"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": {"access": "allowed"}}}],
                    "ports": [{"protocol": "TCP", "port": SERVER_PORT}],
                }
            ],
        },
    }


def test_a_pod_reaches_the_server_while_no_policy_selects_it(namespace, server):
    assert pod_can_connect(namespace, {"role": "client"}, server, SERVER_PORT)


def test_a_policy_refuses_an_unlabelled_pod_and_admits_a_labelled_one(namespace, server):
    kubectl("apply", "-f", "-", stdin=json.dumps(only_labelled_clients(namespace)))
    # The enforcer reads the policy from its informer: allow it a moment to arrive.
    wait_until(
        "the policy to refuse an unlabelled pod",
        lambda: not pod_can_connect(namespace, {"role": "client"}, server, SERVER_PORT),
        timeout=60,
        interval=1,
    )
    assert pod_can_connect(namespace, {"role": "client", "access": "allowed"}, server, SERVER_PORT)
    # Refused still, not a one-off: the refusal is the policy's, every time.
    assert not pod_can_connect(namespace, {"role": "client"}, server, SERVER_PORT)
