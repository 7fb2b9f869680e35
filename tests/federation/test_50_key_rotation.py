"""A rotates its signing key (playbooks/rotate_signing_key.yml, A's inventory host only): A
publishes the new key and keeps the old one in old_verify_keys; B, as a notary, fetches the
new key on demand and still vouches for the old one; events A signed before the rotation
and after it both reach B (a new B user joins a room created before the rotation, whose
history A signed with the old key, and receives a message A signs with the new one)."""

from __future__ import annotations

import json
import secrets

import nio

from .fedlib import A, B, client, create_user, get, notary_keys, playbook, run, sync_until
from .test_20_server_keys import verify_key_of_secret


def published_keys():
    status, _, body = run(get(f"https://{A.public_host}/_matrix/key/v2/server"))
    assert status == 200
    return json.loads(body)


def test_rotation_keeps_old_events_verifiable_and_signs_new_ones_with_the_new_key():
    password = secrets.token_urlsafe(16)
    alice_name, bob_name = f"ralice{secrets.token_hex(3)}", f"rbob{secrets.token_hex(3)}"
    run(create_user(A, alice_name, password))
    run(create_user(B, bob_name, password))
    before = f"before {secrets.token_hex(4)}"
    after = f"after {secrets.token_hex(4)}"

    async def room_signed_with_the_old_key():
        alice = client(A, alice_name)
        try:
            assert isinstance(await alice.login(password), nio.LoginResponse)
            room = await alice.room_create(
                name="rotation", alias=alias_localpart, preset=nio.RoomPreset.public_chat
            )
            assert isinstance(room, nio.RoomCreateResponse), room
            sent = await alice.room_send(
                room.room_id, "m.room.message", {"msgtype": "m.text", "body": before}
            )
            assert isinstance(sent, nio.RoomSendResponse), sent
            return room.room_id, f"#{alias_localpart}:{A.server_name}"
        finally:
            await alice.close()

    alias_localpart = f"rotation{secrets.token_hex(3)}"
    room_id, alias = run(room_signed_with_the_old_key())
    old_id, old_key = verify_key_of_secret(A)

    playbook("rotate_signing_key.yml", "-l", A.server_name)

    new_id, new_key = verify_key_of_secret(A)
    assert new_id != old_id
    published = published_keys()
    assert published["verify_keys"] == {new_id: {"key": new_key}}
    assert published["old_verify_keys"][old_id]["key"] == old_key
    # B fetches the key it has never seen from A, and still serves the old one.
    assert run(notary_keys(B, A, new_id))["verify_keys"][new_id] == {"key": new_key}
    assert run(notary_keys(B, A, old_id))["old_verify_keys"][old_id]["key"] == old_key

    async def b_joins_and_receives_both():
        alice, bob = client(A, alice_name), client(B, bob_name)
        try:
            assert isinstance(await alice.login(password), nio.LoginResponse)
            assert isinstance(await bob.login(password), nio.LoginResponse)
            # By alias: B asks A's directory over federation which servers are in the room
            # (room ids of recent room versions name no server). The join pulls the room's
            # history, signed by A with the old key, through B.
            assert isinstance(await bob.join(alias), nio.JoinResponse)
            history = await bob.room_messages(room_id, start="", limit=50)
            assert isinstance(history, nio.RoomMessagesResponse), history
            assert any(getattr(e, "body", None) == before for e in history.chunk)
            seen = []
            bob.add_event_callback(lambda r, e: seen.append(e.body), nio.RoomMessageText)
            await bob.sync(timeout=0)
            sent = await alice.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": after})
            assert isinstance(sent, nio.RoomSendResponse), sent
            await sync_until(bob, "a message signed with A's new key", lambda _: after in seen)
        finally:
            await alice.close()
            await bob.close()

    run(b_joins_and_receives_both())
