"""The upgrade from the previous release keeps what the community wrote and who the server is.

Under Molecule scenario node the deployment is an upgrade: prepare installed the previous
release (tests/upgrade/PREVIOUS_RELEASE) on the real node and wrote Matrix data with
matrix-nio (tests/node/upgrade_data.py, recorded in its RECORD); converge ran the current
site.yml over it and idempotence proved the second run changed nothing. Here, against the
upgraded server: the signing key is byte-identical and still the one published, both users
log in with their passwords, and their access tokens from before the upgrade still work
(the macaroon key and the database are kept: sessions survive an upgrade), the room's
history holds every message in order, and the file downloads byte for byte.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os

import nio
import pytest

from .upgrade_data import RECORD, published_verify_keys, secret_bytes, synapse_url


@pytest.fixture(scope="module")
def record():
    if not RECORD.exists():
        if os.environ.get("MATRIXK8S_NODE_CONVERGED") == "1":
            pytest.fail(f"{RECORD} is missing: molecule/node/prepare.yml wrote no data before the upgrade")
        pytest.skip("no data from the previous release: run `make node-test` (its prepare writes it)")
    written = json.loads(RECORD.read_text())
    if "skipped" in written:
        pytest.skip(written["skipped"])
    return written


def test_signing_key_is_byte_identical_and_still_published(record):
    assert (
        hashlib.sha256(secret_bytes("synapse-signing-key", "signing.key")).hexdigest()
        == record["signing_key_sha256"]
    )
    assert published_verify_keys(synapse_url()) == record["verify_keys"]


def test_users_log_in_with_their_passwords_and_keep_their_sessions(record):
    async def scenario():
        for user in record["users"].values():
            client = nio.AsyncClient(synapse_url(), user["user_id"])
            try:
                client.access_token, client.user_id = user["access_token"], user["user_id"]
                whoami = await client.whoami()
                assert isinstance(whoami, nio.WhoamiResponse), whoami
                assert whoami.user_id == user["user_id"]
                assert isinstance(await client.login(user["password"]), nio.LoginResponse)
            finally:
                await client.close()

    asyncio.run(scenario())


def test_room_history_and_media_are_all_there(record):
    bob = record["users"]["bob"]

    async def scenario():
        client = nio.AsyncClient(synapse_url(), bob["user_id"])
        client.access_token, client.user_id = bob["access_token"], bob["user_id"]
        try:
            history = await client.room_messages(
                record["room_id"], start="", limit=100, direction=nio.MessageDirection.front
            )
            assert isinstance(history, nio.RoomMessagesResponse), history
            texts = [
                {"sender": e.sender, "body": e.body}
                for e in history.chunk
                if isinstance(e, nio.RoomMessageText)
            ]
            assert texts == record["messages"]
            [file_event] = [e for e in history.chunk if isinstance(e, nio.RoomMessageFile)]
            assert file_event.url == record["media"]["mxc"]
            download = await client.download(mxc=record["media"]["mxc"])
            assert isinstance(download, nio.DownloadResponse), download
            assert hashlib.sha256(download.body).hexdigest() == record["media"]["sha256"]
        finally:
            await client.close()

    asyncio.run(scenario())
