"""Helpers of the federation suite: two homeservers on the real node, reached the way another
server or a client on the Internet reaches them: by name, over HTTPS, through the ingress.

The names *.matrix.test exist only in the cluster's DNS (dev/node's CoreDNS sends them to
the Traefik Service). The host running pytest does not use that DNS, so its HTTP clients get
a resolver that answers every *.matrix.test name with the Traefik Service's ClusterIP (checked
first to be served by the real node), and TLS is verified against the local CA that
cert-manager issues from: the hostname check and the chain check both stay on.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
import time
from dataclasses import dataclass

import aiohttp
import nio
from aiohttp.abc import AbstractResolver
from node.nodelib import REPO, kube_json, run_playbook, served_cluster_ip

INGRESS_NAMESPACE = "ingress"
INGRESS_SERVICE = "traefik"
# The local CA's Secret (dev/node/ingress): cert-manager keeps the CA it issued for itself here.
CA_NAMESPACE = "cert-manager"
CA_SECRET = "matrixk8s-test-ca"
# The CA nobody was told to trust (tests/federation/test_60_untrusted_ca.py).
ROGUE_CA_SECRET = "matrixk8s-rogue-ca"
DOMAIN = "matrix.test"
# Both homeservers, one inventory host each (a real operator's shape for several servers).
INVENTORY = REPO / "inventories" / "local-federation"


@dataclass(frozen=True)
class Homeserver:
    """One of the two homeservers of molecule/federation's inventory."""

    server_name: str
    namespace: str

    @property
    def public_host(self) -> str:
        return f"matrix.{self.server_name}"

    @property
    def client_url(self) -> str:
        return f"https://{self.public_host}"

    def secret(self, name: str, key: str) -> bytes:
        data = kube_json("-n", self.namespace, "get", "secret", name)["data"]
        return base64.b64decode(data[key])


A = Homeserver("a.matrix.test", "matrix-a")
B = Homeserver("b.matrix.test", "matrix-b")


def ca_pem(secret: str = CA_SECRET) -> str:
    return base64.b64decode(kube_json("-n", CA_NAMESPACE, "get", "secret", secret)["data"]["ca.crt"]).decode()


def ssl_context(ca_secret: str = CA_SECRET) -> ssl.SSLContext:
    """Trust only the local CA (not the system's): a certificate from anywhere else fails."""
    context = ssl.create_default_context(cadata=ca_pem(ca_secret))
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


class IngressResolver(AbstractResolver):
    """*.matrix.test -> the Traefik Service's ClusterIP; any other name is refused, so no request
    can leave the machine by accident."""

    def __init__(self) -> None:
        self.address = served_cluster_ip(INGRESS_NAMESPACE, INGRESS_SERVICE)

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET):
        if host != DOMAIN and not host.endswith("." + DOMAIN):
            raise OSError(f"{host} is not a test name (*.{DOMAIN}): refused")
        return [
            {
                "hostname": host,
                "host": self.address,
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


def session(ca_secret: str = CA_SECRET) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(resolver=IngressResolver(), ssl=ssl_context(ca_secret))
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30))


async def get(url: str, ca_secret: str = CA_SECRET, **kwargs) -> tuple[int, dict, bytes]:
    async with session(ca_secret) as http, http.get(url, **kwargs) as response:
        return response.status, dict(response.headers), await response.read()


async def post_json(url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session() as http, http.post(url, json=body, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def notary_keys(notary: Homeserver, origin: Homeserver, key_id: str) -> dict:
    """NOTARY's answer for ORIGIN's key KEY_ID (POST /_matrix/key/v2/query). Asking for a key
    valid now makes a notary without it fetch it from the origin over federation (asked for
    no key id, a notary only returns what it has cached)."""
    now_ms = int(time.time() * 1000)
    query = {"server_keys": {origin.server_name: {key_id: {"minimum_valid_until_ts": now_ms}}}}
    status, answer = await post_json(f"{notary.client_url}/_matrix/key/v2/query", query)
    assert status == 200, answer
    [keys] = [k for k in answer["server_keys"] if k["server_name"] == origin.server_name]
    return keys


def run(coroutine):
    return asyncio.run(coroutine)


def client(server: Homeserver, localpart: str, store_path: str | None = None) -> nio.AsyncClient:
    """A matrix-nio client of SERVER, over HTTPS through the ingress (end-to-end encryption on
    when a STORE_PATH is given: nio keeps the device's keys there)."""
    config = nio.AsyncClientConfig(
        encryption_enabled=store_path is not None, store_sync_tokens=store_path is not None
    )
    matrix_client = nio.AsyncClient(
        server.client_url,
        f"@{localpart}:{server.server_name}",
        store_path=store_path or "",
        config=config,
        ssl=ssl_context(),
    )
    # Set before the first request: nio only creates its own session when none is set.
    matrix_client.client_session = session()
    return matrix_client


async def create_user(server: Homeserver, localpart: str, password: str) -> None:
    """Registration is closed: the admin the roles created makes the user through the admin
    API, which the Ingress does not expose (only /_matrix and /_synapse/client are public),
    so this goes to the Synapse Service directly, as an operator's port-forward would."""
    service = f"http://{served_cluster_ip(server.namespace, 'synapse')}:8008"
    admin_password = server.secret("synapse-admin-admin", "password").decode()
    login = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": "admin"},
        "password": admin_password,
    }
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        async with http.post(f"{service}/_matrix/client/v3/login", json=login) as response:
            assert response.status == 200, f"admin login on {server.server_name}: {response.status}"
            token = (await response.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{service}/_synapse/admin/v2/users/@{localpart}:{server.server_name}"
        async with http.put(url, json={"password": password}, headers=headers) as response:
            assert response.status in (200, 201), await response.text()
        async with http.post(f"{service}/_matrix/client/v3/logout", headers=headers) as response:
            assert response.status == 200


async def sync_until(matrix_client: nio.AsyncClient, what: str, predicate, timeout: float = 90):
    """Sync (long-poll, 5 s each) until PREDICATE(client) is true: federation is asynchronous."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        response = await matrix_client.sync(timeout=5000, full_state=False)
        assert isinstance(response, nio.SyncResponse), response
        found = predicate(matrix_client)
        if found:
            return found
    raise AssertionError(f"{matrix_client.user_id}: timed out after {timeout}s waiting for {what}")


def playbook(name: str, *extra: str, timeout: float = 900):
    """playbooks/NAME with the federation inventory (both homeservers, or one with -l)."""
    return run_playbook(name, "-i", str(INVENTORY), *extra, timeout=timeout)
