"""End-to-end encryption across the federation: A's client encrypts (Megolm, its room key sent
to B's device with Olm), the servers only carry ciphertext, and B's client decrypts. matrix-nio
0.26 does its cryptography with vodozemac (a PyPI wheel; no libolm needed)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets

import nio

from .fedlib import A, B, client, create_user, run, sync_until

ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


async def device(server, localpart, password, store):
    matrix_client = client(server, localpart, store_path=str(store))
    response = await matrix_client.login(password, device_name=f"federation test {localpart}")
    assert isinstance(response, nio.LoginResponse), response
    assert matrix_client.olm is not None, "nio has no encryption: is vodozemac installed?"
    if matrix_client.should_upload_keys:
        assert isinstance(await matrix_client.keys_upload(), nio.KeysUploadResponse)
    return matrix_client


async def keys_queried(matrix_client):
    if matrix_client.should_query_keys:
        await matrix_client.keys_query()


def test_an_encrypted_message_from_a_is_decrypted_on_b(tmp_path):
    password = secrets.token_urlsafe(16)
    alice_name, bob_name = f"ealice{secrets.token_hex(3)}", f"ebob{secrets.token_hex(3)}"
    for server, localpart in ((A, alice_name), (B, bob_name)):
        (tmp_path / localpart).mkdir()
        run(create_user(server, localpart, password))
    body = f"secret {secrets.token_hex(8)}"

    async def scenario():
        alice = await device(A, alice_name, password, tmp_path / alice_name)
        bob = await device(B, bob_name, password, tmp_path / bob_name)
        try:
            room = await alice.room_create(invite=[bob.user_id], initial_state=[ENCRYPTION])
            assert isinstance(room, nio.RoomCreateResponse), room
            await sync_until(bob, "the invite", lambda c: room.room_id in c.invited_rooms)
            assert isinstance(await bob.join(room.room_id), nio.JoinResponse)

            def bob_joined(c):
                joined = c.rooms.get(room.room_id)
                return joined is not None and bob.user_id in joined.users and joined.encrypted

            await sync_until(alice, "B's user in the encrypted room", bob_joined)
            await keys_queried(alice)  # B's device keys, fetched from B over federation
            sent = await alice.room_send(
                room.room_id,
                "m.room.message",
                {"msgtype": "m.text", "body": body},
                ignore_unverified_devices=True,
            )
            assert isinstance(sent, nio.RoomSendResponse), sent

            decrypted, undecryptable = [], []
            bob.add_event_callback(lambda r, e: decrypted.append(e), nio.RoomMessageText)
            bob.add_event_callback(lambda r, e: undecryptable.append(e), nio.MegolmEvent)

            async def decrypted_on_b():
                await keys_queried(bob)
                for event in undecryptable:
                    # Until the room key has arrived (to-device, over federation): sync again.
                    with contextlib.suppress(nio.EncryptionError):
                        decrypted.append(bob.decrypt_event(event))
                undecryptable.clear()
                return any(getattr(e, "body", None) == body for e in decrypted)

            loop = asyncio.get_running_loop()
            deadline = loop.time() + 90
            while not await decrypted_on_b():
                assert loop.time() < deadline, f"B never decrypted A's message in 90 s: {undecryptable}"
                await bob.sync(timeout=5000)
            [event] = [e for e in decrypted if getattr(e, "body", None) == body]
            assert event.decrypted
            assert event.sender == alice.user_id
        finally:
            await alice.close()
            await bob.close()

    run(scenario())
