"""The real node's kubelet API is authenticated and bound to the node's address
(dev/node/up.sh): a caller without credentials gets 401, the API server's client
certificate is admitted, nothing listens on other addresses, and `kubectl logs` and
`kubectl exec`, which the API server forwards to the kubelet, still work.
"""

from __future__ import annotations

import json
import secrets
import socket
import ssl
import urllib.error
import urllib.request

import pytest

from .nodelib import NODE_NAME, REPO, kube_json, kubectl

KUBELET_PORT = 10250
PKI = REPO / ".local" / "kwok" / "clusters" / "matrixk8s" / "pki"


@pytest.fixture(scope="module")
def node_address() -> str:
    addresses = kube_json("get", "node", NODE_NAME)["status"]["addresses"]
    return next(a["address"] for a in addresses if a["type"] == "InternalIP")


def kubelet_get(address: str, path: str, client_cert: bool) -> tuple[int, bytes]:
    # The kubelet's serving certificate is self-signed (as `curl -k`): what is tested is
    # whether it authenticates the caller, not who it is.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if client_cert:
        context.load_cert_chain(PKI / "admin.crt", PKI / "admin.key")
    url = f"https://{address}:{KUBELET_PORT}{path}"
    try:
        with urllib.request.urlopen(url, context=context, timeout=10) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_the_kubelet_refuses_a_caller_without_credentials(node_address):
    for path in ("/pods", "/runningpods/", "/configz"):
        status, _ = kubelet_get(node_address, path, client_cert=False)
        assert status == 401, f"{path}: {status}"


def test_the_kubelet_admits_the_api_servers_client_certificate(node_address):
    status, body = kubelet_get(node_address, "/pods", client_cert=True)
    assert status == 200
    assert json.loads(body)["kind"] == "PodList"


def test_the_kubelet_listens_on_the_node_address_only(node_address):
    with socket.create_connection((node_address, KUBELET_PORT), timeout=5):
        pass
    for other in ("127.0.0.1", "10.88.0.1"):  # loopback, the pods' gateway
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((other, KUBELET_PORT), timeout=5).close()


def test_logs_and_exec_through_the_api_server_still_work():
    namespace = f"kubelet-api-{secrets.token_hex(3)}"
    kubectl("create", "namespace", namespace)
    try:
        kubectl("-n", namespace, "run", "talker", "--image=matrixk8s.local/postgres:17", "--restart=Never",
                "--command", "--", "bash", "-c", "echo said-hello; exec sleep 300")  # fmt: skip
        kubectl("-n", namespace, "wait", "--for=condition=Ready", "pod/talker", "--timeout=90s", timeout=100)
        assert "said-hello" in kubectl("-n", namespace, "logs", "talker").stdout
        hostname = kubectl("-n", namespace, "exec", "talker", "--", "cat", "/etc/hostname").stdout
        assert hostname.strip() == "talker"
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)
