"""The real node's ingress (dev/node/ingress): an Ingress of class `traefik` annotated with
`cert-manager.io/cluster-issuer: matrixk8s-test-ca` gets a Ready Certificate from the
node's test CA, and Traefik serves it over HTTPS by SNI through the ingress Service; a name
no Ingress has gets a certificate our CA did not sign. Every `*.matrix.test` name resolves,
through the node's CoreDNS, to that Service.

Everything the tests create lives in a namespace of their own, deleted at the end.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import ssl
import struct

import pytest

from .nodelib import kube_json, kubectl, served_cluster_ip, wait_until

# The node's CoreDNS (dev/node/lib.sh dns_ip): a host process on an address of lo.
DNS_IP = "169.254.20.10"
ISSUER = "matrixk8s-test-ca"
BACKEND_IMAGE = "matrixk8s.local/nginx-unprivileged:1.22"
BACKEND_PORT = 8080
# What the nginx image serves at / (dev/images/nginx/rootfs.sh).
BACKEND_BODY = b"<h1>nginx</h1>"
A, AAAA = 1, 28


@pytest.fixture(scope="module")
def namespace():
    name = f"ingress-test-{secrets.token_hex(3)}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def traefik_ip():
    return served_cluster_ip("ingress", "traefik")


@pytest.fixture(scope="module")
def ca_pem() -> str:
    """The test CA's certificate, from the Secret its ClusterIssuer signs with."""
    secret = kube_json("-n", "cert-manager", "get", "secret", ISSUER)
    return base64.b64decode(secret["data"]["ca.crt"]).decode()


def tls_ingress(namespace: str, host: str) -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "web",
            "namespace": namespace,
            "annotations": {"cert-manager.io/cluster-issuer": ISSUER},
        },
        "spec": {
            "ingressClassName": "traefik",
            "tls": [{"hosts": [host], "secretName": "web-tls"}],
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": BACKEND_PORT}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def host(namespace):
    """nginx behind a Service and a TLS Ingress for <namespace>.matrix.test; returns the
    host name once cert-manager has made the Ingress's Certificate Ready."""
    name = f"{namespace}.matrix.test"
    image, port = f"--image={BACKEND_IMAGE}", f"--port={BACKEND_PORT}"
    kubectl("-n", namespace, "create", "deployment", "web", image, port)
    kubectl("-n", namespace, "expose", "deployment", "web", port)
    kubectl("apply", "-f", "-", stdin=json.dumps(tls_ingress(namespace, name)))
    kubectl("-n", namespace, "rollout", "status", "deployment/web", "--timeout=90s", timeout=100)
    return name


def certificate_ready(namespace: str, name: str) -> bool:
    status = kube_json("-n", namespace, "get", "certificate", name).get("status", {})
    return any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))


@pytest.fixture(scope="module")
def certificate(namespace, host) -> dict:
    """The Ingress's Certificate (the ingress-shim names it after the TLS Secret), once Ready."""
    wait_until("Certificate web-tls to be Ready", lambda: certificate_ready(namespace, "web-tls"), 120)
    return kube_json("-n", namespace, "get", "certificate", "web-tls")


def https_get(address: str, server_name: str, context: ssl.SSLContext) -> tuple[dict, bytes]:
    """GET / from ADDRESS:443 with SNI and Host SERVER_NAME; returns the peer certificate
    (as the ssl module decodes a verified one) and the raw response."""
    with (
        socket.create_connection((address, 443), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {server_name}\r\nConnection: close\r\n\r\n".encode())
        response = b""
        while chunk := tls.recv(65536):
            response += chunk
        return tls.getpeercert(), response


def verifying_context(ca_pem: str, check_hostname: bool = True) -> ssl.SSLContext:
    """Trusts the test CA and nothing else (not the machine's CAs)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = check_hostname
    context.load_verify_locations(cadata=ca_pem)
    return context


def serves_verified(address: str, host: str, ca_pem: str):
    """The peer certificate and response once HOST verifies against the CA and its backend
    answers: Traefik serves its default certificate until it has seen the new Secret, and
    404 until its router for the host is in place (its configuration converges on its own)."""
    peer, response = https_get(address, host, verifying_context(ca_pem))
    status_line = response.split(b"\r\n", 1)[0]
    if not status_line.startswith(b"HTTP/1.1 200"):
        raise AssertionError(f"https://{host}/ answered {status_line!r}")
    return peer, response


def test_an_annotated_ingress_gets_a_ready_certificate_from_the_test_ca(namespace, host, certificate, ca_pem):
    assert certificate["spec"]["issuerRef"]["name"] == ISSUER
    assert certificate["spec"]["dnsNames"] == [host]
    issued = kube_json("-n", namespace, "get", "secret", "web-tls")
    assert issued["type"] == "kubernetes.io/tls"
    assert base64.b64decode(issued["data"]["ca.crt"]).decode().strip() == ca_pem.strip()


def test_https_by_sni_verifies_against_the_test_ca_and_names_the_host(host, certificate, ca_pem, traefik_ip):
    peer, response = wait_until(
        f"https://{host} to verify against {ISSUER}",
        lambda: serves_verified(traefik_ip, host, ca_pem),
        timeout=60,
        interval=1,
    )
    assert ("DNS", host) in peer["subjectAltName"]
    status_line = response.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 200"), status_line
    assert BACKEND_BODY in response


def test_an_unknown_sni_is_not_served_a_certificate_of_the_test_ca(host, certificate, ca_pem, traefik_ip):
    # The same path verifies for the Ingress's host, so a failure below is the certificate's.
    wait_until(
        f"https://{host} to verify against {ISSUER}",
        lambda: serves_verified(traefik_ip, host, ca_pem),
        timeout=120,
        interval=1,
    )
    unknown = f"nobody-{secrets.token_hex(3)}.matrix.test"
    # Chain only (no host name check): whatever name it carries, the CA did not sign it.
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        https_get(traefik_ip, unknown, verifying_context(ca_pem, check_hostname=False))


def dns_query(name: str, qtype: int, server: str = DNS_IP) -> tuple[int, list[tuple[int, bytes]]]:
    """One recursive query over UDP; returns the response code and the answers' (type, data)."""
    query_id = secrets.randbits(16)
    qname = b"".join(bytes([len(label)]) + label.encode() for label in name.rstrip(".").split(".")) + b"\0"
    packet = struct.pack("!HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(packet, (server, 53))
        reply = sock.recv(4096)
    reply_id, flags, qdcount, ancount = struct.unpack("!HHHH", reply[:8])
    assert reply_id == query_id, "a reply to another query"
    offset = 12
    for _ in range(qdcount):
        offset = _skip_name(reply, offset) + 4
    answers = []
    for _ in range(ancount):
        offset = _skip_name(reply, offset)
        rtype, _class, _ttl, length = struct.unpack("!HHIH", reply[offset : offset + 10])
        offset += 10
        answers.append((rtype, reply[offset : offset + length]))
        offset += length
    return flags & 0x000F, answers


def _skip_name(message: bytes, offset: int) -> int:
    while True:
        length = message[offset]
        if length == 0:
            return offset + 1
        if length & 0xC0 == 0xC0:  # a compression pointer ends the name
            return offset + 2
        offset += 1 + length


def addresses(answers: list[tuple[int, bytes]]) -> list[str]:
    return [socket.inet_ntoa(data) for rtype, data in answers if rtype == A]


@pytest.mark.parametrize("name", ["matrix.test", "a.matrix.test", "matrix.b.matrix.test"])
def test_matrix_test_names_resolve_to_the_ingress_service(name, traefik_ip):
    rcode, answers = dns_query(name, A)
    assert rcode == 0, f"{name}: response code {rcode}"
    assert addresses(answers) == [traefik_ip]
    # IPv4 only: AAAA answers "no such record" (NOERROR, empty), not an error a resolver
    # would give up on.
    rcode, answers = dns_query(name, AAAA)
    assert (rcode, answers) == (0, [])


def test_a_name_merely_ending_in_matrix_test_is_not_rewritten(traefik_ip):
    # Sanity of the query itself: the ingress name resolves.
    assert addresses(dns_query("a.matrix.test", A)[1]) == [traefik_ip]
    # Not under matrix.test: CoreDNS forwards it to the machine's resolver, which may not
    # answer at all here; a rewritten name would have been answered at once.
    try:
        _rcode, answers = dns_query("notmatrix.test", A)
    except TimeoutError:
        answers = []
    assert traefik_ip not in addresses(answers)


def test_a_pod_resolves_a_matrix_test_name_to_the_ingress_service(namespace, traefik_ip):
    """The path Synapse takes: the pod's resolver (kubelet's clusterDNS) to CoreDNS."""
    name = f"resolve-{secrets.token_hex(3)}"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65534,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "resolve",
                    # Our postgres image: Debian's getent, which resolves as libc does.
                    "image": "matrixk8s.local/postgres:17",
                    "imagePullPolicy": "Never",
                    "command": ["getent", "ahostsv4", "pod-check.matrix.test"],
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }
    kubectl("-n", namespace, "apply", "-f", "-", stdin=json.dumps(pod))
    try:

        def finished():
            phase = kube_json("-n", namespace, "get", "pod", name)["status"].get("phase")
            return phase in ("Succeeded", "Failed") and phase

        phase = wait_until(f"pod {name} to finish", finished, timeout=90, interval=1)
        output = kubectl("-n", namespace, "logs", name).stdout
        assert phase == "Succeeded", f"getent failed: {output!r}"
        assert {line.split()[0] for line in output.splitlines() if line.strip()} == {traefik_ip}, output
    finally:
        kubectl("-n", namespace, "delete", "pod", name, "--wait=false", "--ignore-not-found", check=False)
