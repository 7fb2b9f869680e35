"""A real Matrix client (matrix-nio) uses the Synapse our roles configure.

The admin is registered by the registration Job's own command (register_new_matrix_user
with the shared secret file from Secret synapse-secrets); everything else goes through nio:
login, rooms, messages, media, and discovery from nginx's /.well-known/matrix/client.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import urllib.parse
import urllib.request

import nio

from . import servers


def run(coroutine):
    return asyncio.run(coroutine)


async def _client(synapse, session) -> nio.AsyncClient:
    client = nio.AsyncClient(synapse.url)
    client.restore_login(session.user_id, session.device_id, session.access_token)
    return client


def test_health_answers_on_both_listeners_and_only_health_on_the_probe_port(synapse):
    # 8008 serves /health too (GKE's load balancer checks it there), 8080 only /health.
    assert servers.http_ok(f"{synapse.url}/health")
    assert servers.http_ok(synapse.health_url)
    probe_root = synapse.health_url.rsplit("/", 1)[0]
    assert not servers.http_ok(f"{probe_root}/_matrix/client/versions")
    assert servers.http_ok(f"{synapse.url}/_matrix/client/versions")


def test_first_admin_is_registered_through_the_shared_secret(admin, synapse, admin_session):
    assert "Success" in admin.registration.stdout, admin.registration.stdout
    assert admin_session.user_id == admin.user_id
    request = urllib.request.Request(
        f"{synapse.url}/_synapse/admin/v2/users/{urllib.parse.quote(admin.user_id)}",
        headers={"Authorization": f"Bearer {admin_session.access_token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        user = json.load(response)
    assert user["admin"] is True
    assert user["deactivated"] is False


def test_registering_again_is_harmless(admin, loopback):
    """The role re-runs its Job after a lost record: --exists-ok must make that a no-op."""
    result = servers.run(loopback.admin_command, env={**os.environ, "HOME": "/tmp"}, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "already" in (result.stdout + result.stderr).lower()


def test_whoami_with_the_login_token(synapse, admin_session):
    async def scenario():
        client = await _client(synapse, admin_session)
        try:
            return await client.whoami()
        finally:
            await client.close()

    response = run(scenario())
    assert isinstance(response, nio.WhoamiResponse), response
    assert response.user_id == admin_session.user_id
    assert response.device_id == admin_session.device_id


def test_create_room_send_and_read_back_a_message(synapse, admin_session):
    body = f"hello from the realserver suite {secrets.token_hex(4)}"

    async def scenario():
        client = await _client(synapse, admin_session)
        try:
            room = await client.room_create(name="realserver", topic="tier 3")
            assert isinstance(room, nio.RoomCreateResponse), room
            sent = await client.room_send(room.room_id, "m.room.message", {"msgtype": "m.text", "body": body})
            assert isinstance(sent, nio.RoomSendResponse), sent
            # Read it back from the server, not from the client's own echo.
            messages = await client.room_messages(room.room_id, start="", limit=20)
            assert isinstance(messages, nio.RoomMessagesResponse), messages
            event = await client.room_get_event(room.room_id, sent.event_id)
            assert isinstance(event, nio.RoomGetEventResponse), event
            return messages, event.event
        finally:
            await client.close()

    messages, event = run(scenario())
    texts = [e for e in messages.chunk if isinstance(e, nio.RoomMessageText)]
    assert [e.body for e in texts] == [body]
    assert texts[0].sender == admin_session.user_id
    assert event.body == body


def test_upload_and_download_media(synapse, admin_session, loopback):
    data = os.urandom(64 * 1024) + b"realserver"

    async def scenario():
        client = await _client(synapse, admin_session)
        try:
            uploaded, _ = await client.upload(
                lambda *_: data,
                content_type="application/octet-stream",
                filename="blob.bin",
                filesize=len(data),
            )
            assert isinstance(uploaded, nio.UploadResponse), uploaded
            downloaded = await client.download(mxc=uploaded.content_uri)
            assert isinstance(downloaded, nio.MemoryDownloadResponse), downloaded
            return uploaded.content_uri, downloaded
        finally:
            await client.close()

    content_uri, downloaded = run(scenario())
    assert content_uri.startswith(f"mxc://{loopback.homeserver['server_name']}/")
    assert downloaded.body == data
    assert downloaded.content_type == "application/octet-stream"
    assert downloaded.filename == "blob.bin"


def test_client_discovers_the_homeserver_from_well_known_and_logs_in(nginx, synapse, admin, loopback):
    """nio's own discovery: GET /.well-known/matrix/client on the server name's host (nginx)."""

    async def scenario():
        finder = nio.AsyncClient(nginx.url)
        try:
            found = await finder.discovery_info()
        finally:
            await finder.close()
        assert isinstance(found, nio.DiscoveryInfoResponse), found
        client = nio.AsyncClient(found.homeserver_url, admin.user_id)
        try:
            login = await client.login(admin.password, device_name="discovered")
            assert isinstance(login, nio.LoginResponse), login
            whoami = await client.whoami()
            await client.logout()
            return found.homeserver_url, whoami
        finally:
            await client.close()

    homeserver_url, whoami = run(scenario())
    assert homeserver_url == loopback.well_known["client.json"]["m.homeserver"]["base_url"].rstrip("/")
    assert homeserver_url == synapse.url
    assert whoami.user_id == admin.user_id


def test_wrong_password_is_refused(synapse, admin):
    async def scenario():
        client = nio.AsyncClient(synapse.url, admin.user_id)
        try:
            return await client.login("not-" + admin.password)
        finally:
            await client.close()

    response = run(scenario())
    assert isinstance(response, nio.LoginError)
    assert response.status_code == "M_FORBIDDEN"
