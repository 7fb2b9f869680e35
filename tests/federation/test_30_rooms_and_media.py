"""Users of two homeservers talk: a user on A creates a room and invites a user on B, who joins
over federation; messages cross both ways; a file uploaded on A is downloaded by B's client
from B's server (authenticated media: B's Synapse fetches it from A over federation)."""

from __future__ import annotations

import io
import secrets

import nio
import pytest

from .fedlib import A, B, client, create_user, run, sync_until


@pytest.fixture(scope="module")
def people():
    names = {"alice": (A, f"alice{secrets.token_hex(3)}"), "bob": (B, f"bob{secrets.token_hex(3)}")}
    password = secrets.token_urlsafe(16)
    for server, localpart in names.values():
        run(create_user(server, localpart, password))
    return {who: (server, localpart, password) for who, (server, localpart) in names.items()}


async def logged_in(server, localpart, password):
    matrix_client = client(server, localpart)
    response = await matrix_client.login(password)
    assert isinstance(response, nio.LoginResponse), response
    return matrix_client


def received(events, body):
    return any(isinstance(e, nio.RoomMessageText) and e.body == body for e in events)


def test_invite_join_and_messages_cross_both_ways(people):
    async def scenario():
        alice = await logged_in(*people["alice"])
        bob = await logged_in(*people["bob"])
        try:
            room = await alice.room_create(name="federation", invite=[bob.user_id])
            assert isinstance(room, nio.RoomCreateResponse), room
            await sync_until(bob, "the invite from A", lambda c: room.room_id in c.invited_rooms)
            joined = await bob.join(room.room_id)
            assert isinstance(joined, nio.JoinResponse), joined

            seen = {"alice": [], "bob": []}
            for who, matrix_client in (("alice", alice), ("bob", bob)):
                matrix_client.add_event_callback(
                    lambda r, e, who=who: seen[who].append(e), nio.RoomMessageText
                )

            from_a = f"from A {secrets.token_hex(4)}"
            sent = await alice.room_send(
                room.room_id, "m.room.message", {"msgtype": "m.text", "body": from_a}
            )
            assert isinstance(sent, nio.RoomSendResponse), sent
            await sync_until(bob, "A's message on B", lambda _: received(seen["bob"], from_a))

            from_b = f"from B {secrets.token_hex(4)}"
            sent = await bob.room_send(room.room_id, "m.room.message", {"msgtype": "m.text", "body": from_b})
            assert isinstance(sent, nio.RoomSendResponse), sent
            await sync_until(alice, "B's message on A", lambda _: received(seen["alice"], from_b))
        finally:
            await alice.close()
            await bob.close()

    run(scenario())


def test_a_file_uploaded_on_a_is_downloaded_by_b_through_b(people):
    data = secrets.token_bytes(64 * 1024)

    async def scenario():
        alice = await logged_in(*people["alice"])
        bob = await logged_in(*people["bob"])
        try:
            upload, _ = await alice.upload(
                io.BytesIO(data),
                content_type="application/octet-stream",
                filename="f.bin",
                filesize=len(data),
            )
            assert isinstance(upload, nio.UploadResponse), upload
            assert upload.content_uri.startswith(f"mxc://{A.server_name}/")
            # bob's client talks to B only (its homeserver URL); B fetches the file from A.
            assert bob.homeserver == B.client_url
            download = await bob.download(mxc=upload.content_uri)
            assert isinstance(download, nio.DownloadResponse), download
            assert download.body == data
        finally:
            await alice.close()
            await bob.close()

    run(scenario())
