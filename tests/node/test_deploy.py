"""site.yml on the real node, proven by what runs: PostgreSQL answers psql with a C-collated
database, Synapse answers /health and a real Matrix client through its Kubernetes Service,
nginx serves the .well-known JSON, and a replaced Synapse pod keeps the signing key and
the registered user.

Order matters (one deployment, module scope): the tests run top to bottom as the story of
one install. The host reaches Services at their ClusterIP (kube-proxy's iptables rules
route the host's own traffic too), each address checked first to be served by the real
node (nodelib.served_cluster_ip), so no request can leave the machine.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import subprocess
import urllib.request

import nio
import pytest

from .nodelib import (
    NAMESPACE,
    NODE_NAME,
    kube_json,
    kubectl,
    run_playbook,
    served_cluster_ip,
    wait_until,
)

SERVER_NAME = "example.test"
PLAYBOOK_TIMEOUT = 900


def http_get(url: str, timeout: float = 10):
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (a ClusterIP URL)
        return response.status, dict(response.headers), response.read()


def service_url(name: str, port_name: str = "http") -> str:
    service = kube_json("-n", NAMESPACE, "get", "service", name)
    port = next(p["port"] for p in service["spec"]["ports"] if p.get("name") == port_name)
    return f"http://{served_cluster_ip(NAMESPACE, name)}:{port}"


def pods(selector: str) -> list[dict]:
    return kube_json("-n", NAMESPACE, "get", "pods", "-l", selector)["items"]


def ready(pod: dict) -> bool:
    conditions = pod["status"].get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def secret_value(name: str, key: str) -> str:
    data = kube_json("-n", NAMESPACE, "get", "secret", name)["data"]
    return base64.b64decode(data[key]).decode()


def playbook(name: str, *extra: str) -> subprocess.CompletedProcess:
    """playbooks/NAME with the local inventory and the real node's images."""
    return run_playbook(
        name, "-i", "inventories/local", "-i", "inventories/local-node", *extra, timeout=PLAYBOOK_TIMEOUT
    )


def site_yml() -> subprocess.CompletedProcess:
    return playbook("site.yml")


@pytest.fixture(scope="module")
def deployed():
    """The install every check below is about. Under Molecule (scenario node) it is the
    scenario's converge, on a cluster its create started afresh, and this is one more run.
    Run by hand, it is a fresh install: whatever the namespace held (e.g. from simulated
    nodes, where no container ran and the admin Job only pretended to) is purged first."""
    if os.environ.get("MATRIXK8S_NODE_CONVERGED") != "1":
        playbook("uninstall.yml", "-e", "purge=true")
    return site_yml()


@pytest.fixture(scope="module")
def synapse_url(deployed):
    return service_url("synapse")


@pytest.fixture(scope="module")
def user():
    """A user registered through Synapse's admin API by the admin the roles created."""
    return {"name": f"alice{secrets.token_hex(3)}", "password": secrets.token_urlsafe(16)}


def run(coroutine):
    return asyncio.run(coroutine)


def test_postgres_pod_is_ready_on_the_real_node(deployed):
    (pod,) = pods("app.kubernetes.io/name=postgres")
    assert pod["spec"]["nodeName"] == NODE_NAME
    assert ready(pod)
    (status,) = pod["status"]["containerStatuses"]
    # A container the runtime started (simulated nodes report no containerID).
    assert status["containerID"].startswith("containerd://")
    assert status["image"] == "matrixk8s.local/postgres:17"


def test_database_is_created_with_c_collation_queried_through_psql(deployed):
    (pod,) = pods("app.kubernetes.io/name=postgres")
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    query = (
        "select datname, datcollate, datctype, pg_encoding_to_char(encoding) "
        "from pg_database where datname = current_database()"
    )
    proc = kubectl(
        "-n", NAMESPACE, "exec", pod["metadata"]["name"], "--",
        "psql", "-U", env["POSTGRES_USER"], "-d", env["POSTGRES_DB"], "-AtF", "|", "-c", query,
    )  # fmt: skip
    assert proc.stdout.strip() == f"{env['POSTGRES_DB']}|C|C|UTF8"


def test_postgres_service_wants_the_password_from_other_addresses(deployed):
    import psycopg2  # the real-server tier's driver, in the project venv

    host = served_cluster_ip(NAMESPACE, "synapse-postgres")
    address = {"host": host, "port": 5432, "dbname": "synapse", "user": "synapse"}
    password = secret_value("synapse-postgres-password", "password")
    with psycopg2.connect(**address, password=password, connect_timeout=10) as conn, conn.cursor() as cur:
        cur.execute("select current_user")
        assert cur.fetchone() == ("synapse",)
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(**address, password=password + "-wrong", connect_timeout=10)


def test_synapse_database_login_is_not_a_superuser(deployed):
    """Issue 12: Synapse logs in as the database's owner, an ordinary role; the superuser is
    another role. Asked both ways: by the superuser in the pod, and by Synapse's login over
    the Service (the tests below then show Synapse working with it)."""
    import psycopg2

    (pod,) = pods("app.kubernetes.io/name=postgres")
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert env["DATABASE_OWNER"] == "synapse"
    assert env["POSTGRES_USER"] != "synapse"
    query = (
        "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = 'synapse' "
        "UNION ALL SELECT false, false, pg_get_userbyid(datdba) = 'synapse' FROM pg_database "
        "WHERE datname = current_database()"
    )
    proc = kubectl(
        "-n", NAMESPACE, "exec", pod["metadata"]["name"], "-c", "postgres", "--",
        "psql", "-U", env["POSTGRES_USER"], "-d", env["POSTGRES_DB"], "-AtF", "|", "-c", query,
    )  # fmt: skip
    assert proc.stdout.split() == ["f|f|f", "f|f|t"], proc.stdout
    service = kube_json("-n", NAMESPACE, "get", "service", "synapse-postgres")
    password = secret_value("synapse-postgres-password", "password")
    with psycopg2.connect(
        host=service["spec"]["clusterIP"], port=5432, dbname="synapse", user="synapse",
        password=password, connect_timeout=10,
    ) as conn, conn.cursor() as cur:  # fmt: skip
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", ("synapse",))
        assert cur.fetchone() == (False,)
        # Synapse created its tables as that role.
        cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> 'synapse'")
        assert cur.fetchone() == (0,)
    conn.close()


def test_synapse_pod_is_ready_and_answers_health_through_its_service(synapse_url):
    (pod,) = pods("app.kubernetes.io/name=synapse")
    assert pod["spec"]["nodeName"] == NODE_NAME
    assert ready(pod)
    status, _, body = http_get(f"{synapse_url}/health")
    assert (status, body) == (200, b"OK")


def test_matrix_client_registers_logs_in_and_talks_through_the_service(synapse_url, user):
    admin_password = secret_value("synapse-admin-admin", "password")

    async def scenario():
        admin = nio.AsyncClient(synapse_url, f"@admin:{SERVER_NAME}")
        assert isinstance(await admin.login(admin_password), nio.LoginResponse)
        # Registration is closed (enable_registration: false): the admin creates the user.
        request = urllib.request.Request(
            f"{synapse_url}/_synapse/admin/v2/users/@{user['name']}:{SERVER_NAME}",
            data=json.dumps({"password": user["password"]}).encode(),
            method="PUT",
            headers={"Authorization": f"Bearer {admin.access_token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 201
        await admin.close()

        client = nio.AsyncClient(synapse_url, f"@{user['name']}:{SERVER_NAME}")
        assert isinstance(await client.login(user["password"]), nio.LoginResponse)
        room = await client.room_create(name="real node")
        assert isinstance(room, nio.RoomCreateResponse), room
        sent = await client.room_send(room.room_id, "m.room.message", {"msgtype": "m.text", "body": "hello"})
        assert isinstance(sent, nio.RoomSendResponse), sent
        messages = await client.room_messages(room.room_id, start="", limit=10)
        assert "hello" in [getattr(e, "body", None) for e in messages.chunk]
        await client.close()
        return room.room_id

    user["room_id"] = run(scenario())


def test_well_known_json_is_served_by_the_nginx_pod(deployed):
    (pod,) = pods("app.kubernetes.io/name=well-known")
    assert pod["spec"]["nodeName"] == NODE_NAME
    assert ready(pod)
    base = service_url("well-known")
    status, headers, body = http_get(f"{base}/.well-known/matrix/server")
    assert status == 200
    assert json.loads(body) == {"m.server": f"matrix.{SERVER_NAME}:443"}
    status, headers, body = http_get(f"{base}/.well-known/matrix/client")
    assert status == 200
    assert headers.get("Access-Control-Allow-Origin") == "*"
    assert json.loads(body)["m.homeserver"]["base_url"] == f"https://matrix.{SERVER_NAME}"


def test_a_replaced_synapse_pod_keeps_the_signing_key_and_the_user(synapse_url, user):
    assert "room_id" in user, "the Matrix client test must run first"
    _, _, body = http_get(f"{synapse_url}/_matrix/key/v2/server")
    keys_before = json.loads(body)["verify_keys"]
    (old,) = pods("app.kubernetes.io/name=synapse")
    kubectl("-n", NAMESPACE, "delete", "pod", old["metadata"]["name"], "--wait=true", timeout=120)

    def replacement_ready():
        new = [
            p
            for p in pods("app.kubernetes.io/name=synapse")
            if p["metadata"]["uid"] != old["metadata"]["uid"]
        ]
        return new and ready(new[0]) and new[0]

    new = wait_until("the replacement Synapse pod to be Ready", replacement_ready, timeout=300)
    assert new["spec"]["nodeName"] == NODE_NAME
    wait_until(
        "/health through the Service", lambda: http_get(f"{synapse_url}/health")[2] == b"OK", timeout=60
    )
    _, _, body = http_get(f"{synapse_url}/_matrix/key/v2/server")
    assert json.loads(body)["verify_keys"] == keys_before

    async def log_in_again():
        client = nio.AsyncClient(synapse_url, f"@{user['name']}:{SERVER_NAME}")
        assert isinstance(await client.login(user["password"]), nio.LoginResponse)
        messages = await client.room_messages(user["room_id"], start="", limit=10)
        await client.close()
        return [getattr(e, "body", None) for e in messages.chunk]

    assert "hello" in run(log_in_again())


def test_a_second_run_changes_nothing_on_the_real_node(deployed):
    recap = re.search(r"localhost\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", site_yml().stdout)
    assert recap, "no play recap for localhost"
    assert recap.group(1) == "0"


def test_a_changed_admin_password_logs_in(synapse_url, tmp_path):
    """The inventory's new password for an existing admin is applied through the admin API
    (a Job inside the cluster): the admin logs in with it, no longer with the old one, and
    the helper admin the Job used is deactivated. Not run here by its author: the real node
    belongs to another session; it runs in `make node-test`."""
    old_password = secret_value("synapse-admin-admin", "password")
    new_password = "changed-" + secrets.token_urlsafe(16)
    extra = tmp_path / "admins.json"
    extra.write_text(json.dumps({"synapse_admin_users": [{"username": "admin", "password": new_password}]}))
    proc = playbook("site.yml", "-e", f"@{extra}")
    assert new_password not in proc.stdout + proc.stderr
    assert secret_value("synapse-admin-admin", "password") == new_password

    async def logins():
        admin = nio.AsyncClient(synapse_url, f"@admin:{SERVER_NAME}")
        refused = await admin.login(old_password)
        accepted = await admin.login(new_password)
        helpers = []
        if isinstance(accepted, nio.LoginResponse):
            request = urllib.request.Request(
                f"{synapse_url}/_synapse/admin/v2/users?deactivated=true&name=matrixk8s-password-",
                headers={"Authorization": f"Bearer {admin.access_token}"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                helpers = json.loads(response.read())["users"]
        await admin.close()
        return refused, accepted, helpers

    refused, accepted, helpers = run(logins())
    assert isinstance(refused, nio.LoginError), refused
    assert isinstance(accepted, nio.LoginResponse), accepted
    assert helpers, "the Job's helper admin is listed"
    assert all(h["deactivated"] for h in helpers), helpers
    # Unchanged now: the next run with the same password changes nothing.
    again = playbook("site.yml", "-e", f"@{extra}")
    recap = re.search(r"localhost\s*:\s*ok=\d+\s+changed=(\d+)\s", again.stdout)
    assert recap, "no play recap for localhost"
    assert recap.group(1) == "0"
