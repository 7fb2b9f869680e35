"""Synapse trusts the private CA it was told to trust, and nothing else: B refuses a server
whose certificate names it correctly but comes from another CA (dev/node's
matrixk8s-rogue-ca), and says why in its log. Verification is never turned off, so this is
what federation with a misconfigured or impostor server looks like."""

from __future__ import annotations

import datetime
import json
import secrets
import ssl
import time

import aiohttp
import pytest
from node.nodelib import kube_json, kubectl, wait_until

from .fedlib import CA_SECRET, ROGUE_CA_SECRET, A, B, get, post_json, run

# A new name each run: Synapse caches a failed .well-known lookup for a while.
ROGUE_HOST = f"rogue{secrets.token_hex(3)}.matrix.test"


@pytest.fixture(scope="module")
def rogue_server():
    """ROGUE_HOST, served by the ingress with a certificate for exactly that name from the
    rogue CA (cert-manager's ingress-shim), in front of A's well-known nginx: a real
    /.well-known/matrix/server, so only the certificate's issuer is wrong."""
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "rogue",
            "namespace": A.namespace,
            "annotations": {"cert-manager.io/cluster-issuer": ROGUE_CA_SECRET},
        },
        "spec": {
            "ingressClassName": "traefik",
            "tls": [{"hosts": [ROGUE_HOST], "secretName": "rogue-tls"}],
            "rules": [
                {
                    "host": ROGUE_HOST,
                    "http": {
                        "paths": [
                            {
                                "path": "/.well-known/matrix",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "well-known", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ],
        },
    }
    kubectl("apply", "-f", "-", stdin=json.dumps(ingress))
    try:

        def ready():
            status = kube_json("-n", A.namespace, "get", "certificate", "rogue-tls").get("status", {})
            return any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))

        wait_until("the rogue certificate", ready, timeout=60)
        # The ingress serves it once it has read the new Secret.
        wait_until(
            "the rogue host served under the rogue CA",
            lambda: (
                run(get(f"https://{ROGUE_HOST}/.well-known/matrix/server", ca_secret=ROGUE_CA_SECRET))[0]
                == 200
            ),
            timeout=60,
        )
        yield ROGUE_HOST
    finally:
        kubectl("-n", A.namespace, "delete", "ingress", "rogue", "--ignore-not-found")
        kubectl("-n", A.namespace, "delete", "certificate,secret", "rogue-tls", "--ignore-not-found")


def test_the_rogue_certificate_names_the_host_but_not_our_ca(rogue_server):
    # Under the rogue CA the host's certificate verifies, name included ...
    status, _, _ = run(get(f"https://{rogue_server}/.well-known/matrix/server", ca_secret=ROGUE_CA_SECRET))
    assert status == 200
    # ... and under the CA the homeservers trust it does not.
    with pytest.raises(aiohttp.ClientConnectorCertificateError) as refused:
        run(get(f"https://{rogue_server}/.well-known/matrix/server", ca_secret=CA_SECRET))
    assert isinstance(refused.value.certificate_error, ssl.SSLCertVerificationError)


def test_b_refuses_a_server_whose_certificate_it_cannot_verify(rogue_server):
    since = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    time.sleep(1)  # --since-time has whole seconds
    query = {
        "server_keys": {rogue_server: {"ed25519:any": {"minimum_valid_until_ts": int(time.time() * 1000)}}}
    }
    status, answer = run(post_json(f"{B.client_url}/_matrix/key/v2/query", query))
    assert status == 200, answer
    assert answer["server_keys"] == []

    def refusal_logged():
        log = kubectl(
            "-n", B.namespace, "logs", "deploy/synapse", "-c", "synapse", f"--since-time={since}"
        ).stdout
        return [
            line
            for line in log.splitlines()
            if f"https://{rogue_server}/.well-known/matrix/server" in line
            and "certificate verify failed" in line
        ]

    assert wait_until("B's log of the refused certificate", refusal_logged, timeout=30)
