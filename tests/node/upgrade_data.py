"""Matrix data written on the previous release and read back after the upgrade (issue 13:
"users, a room, messages, media ... the signing key is byte-identical, the data is all there").

Molecule scenario node deploys the previous release in its prepare step
(molecule/node/prepare.yml), which then runs `python -m node.upgrade_data write` (from
tests/) to write the data with matrix-nio through the Synapse Service and record what it
wrote in RECORD; the converge is the current site.yml over it, and
tests/node/test_data_kept_from_previous_release.py checks the record against what the
upgraded server serves. RECORD is this checkout's test state (generated passwords and
tokens of throwaway users on a throwaway cluster), never printed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import secrets
import sys
import urllib.request

import nio

from .nodelib import NAMESPACE, REPO, kube_json, served_cluster_ip

RECORD = REPO / ".local" / "node-upgrade-data.json"
SERVER_NAME = "example.test"  # inventories/local's matrix_server_name


def synapse_url() -> str:
    return f"http://{served_cluster_ip(NAMESPACE, 'synapse')}:8008"


def secret_bytes(name: str, key: str) -> bytes:
    return base64.b64decode(kube_json("-n", NAMESPACE, "get", "secret", name)["data"][key])


def published_verify_keys(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_matrix/key/v2/server", timeout=10) as response:  # noqa: S310 (a ClusterIP URL)
        return json.load(response)["verify_keys"]


async def _admin_put_user(url: str, localpart: str, password: str) -> None:
    admin = nio.AsyncClient(url, f"@admin:{SERVER_NAME}")
    try:
        login = await admin.login(secret_bytes("synapse-admin-admin", "password").decode())
        assert isinstance(login, nio.LoginResponse), login
        request = urllib.request.Request(
            f"{url}/_synapse/admin/v2/users/@{localpart}:{SERVER_NAME}",
            data=json.dumps({"password": password}).encode(),
            method="PUT",
            headers={"Authorization": f"Bearer {admin.access_token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (a ClusterIP URL)
            assert response.status == 201, response.status
    finally:
        await admin.logout()
        await admin.close()


async def _logged_in(url: str, localpart: str, password: str) -> nio.AsyncClient:
    client = nio.AsyncClient(url, f"@{localpart}:{SERVER_NAME}")
    response = await client.login(password, device_name="upgrade test")
    assert isinstance(response, nio.LoginResponse), response
    return client


async def write(url: str) -> dict:
    """Two users, a room both are in, messages from each, a file: what RECORD holds."""
    users = {
        who: {"localpart": f"{who}{secrets.token_hex(3)}", "password": secrets.token_urlsafe(16)}
        for who in ("alice", "bob")
    }
    for user in users.values():
        await _admin_put_user(url, user["localpart"], user["password"])
    alice = await _logged_in(url, users["alice"]["localpart"], users["alice"]["password"])
    bob = await _logged_in(url, users["bob"]["localpart"], users["bob"]["password"])
    try:
        room = await alice.room_create(name="before the upgrade", invite=[bob.user_id])
        assert isinstance(room, nio.RoomCreateResponse), room
        assert isinstance(await bob.join(room.room_id), nio.JoinResponse)
        messages = []
        for sender in (alice, bob, alice, bob, alice):
            body = f"{sender.user_id} before the upgrade {secrets.token_hex(4)}"
            sent = await sender.room_send(room.room_id, "m.room.message", {"msgtype": "m.text", "body": body})
            assert isinstance(sent, nio.RoomSendResponse), sent
            messages.append({"sender": sender.user_id, "body": body})
        data = secrets.token_bytes(256 * 1024)
        upload, _ = await alice.upload(
            io.BytesIO(data), content_type="application/octet-stream", filename="kept.bin", filesize=len(data)
        )
        assert isinstance(upload, nio.UploadResponse), upload
        sent = await alice.room_send(
            room.room_id,
            "m.room.message",
            {"msgtype": "m.file", "body": "kept.bin", "url": upload.content_uri},
        )
        assert isinstance(sent, nio.RoomSendResponse), sent
        for who, client in (("alice", alice), ("bob", bob)):
            users[who] |= {"user_id": client.user_id, "access_token": client.access_token}
        return {
            "users": users,
            "room_id": room.room_id,
            "messages": messages,
            "media": {
                "mxc": upload.content_uri,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
            },
            "signing_key_sha256": hashlib.sha256(
                secret_bytes("synapse-signing-key", "signing.key")
            ).hexdigest(),
            "verify_keys": published_verify_keys(url),
        }
    finally:
        # No logout: the access tokens must still work after the upgrade.
        await alice.close()
        await bob.close()


if __name__ == "__main__":
    if sys.argv[1:] != ["write"]:
        sys.exit("usage: python -m node.upgrade_data write   (from tests/)")
    record = asyncio.run(write(synapse_url()))
    RECORD.parent.mkdir(exist_ok=True)
    RECORD.unlink(missing_ok=True)
    # Readable by this user only from the start: it holds the throwaway users' passwords.
    with os.fdopen(os.open(RECORD, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        json.dump(record, out)
    messages, size = len(record["messages"]), record["media"]["size"]
    print(f"wrote {messages} messages and {size} bytes of media; record in {RECORD}")
