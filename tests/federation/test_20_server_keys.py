"""Other servers trust a homeserver by the key it publishes. A publishes the key of its own
Secret, and B, asked as a notary, returns A's key: B fetched it over federation (TLS verified
against the CA the inventory gave B, nothing turned off) and signed what it saw."""

from __future__ import annotations

import json

import signedjson.key
import signedjson.sign

from ansible_collections.matrixk8s.synapse.plugins.module_utils import signing_key

from .fedlib import A, B, get, notary_keys, run


def verify_key_of_secret(server):
    line = server.secret("synapse-signing-key", "signing.key").decode().strip()
    return signing_key.signing_key_id(line), signing_key.signing_key_verify_key(line)


def decoded(key_id: str, base64_key: str):
    algorithm, version = key_id.split(":", 1)
    return signedjson.key.decode_verify_key_base64(algorithm, version, base64_key)


def test_a_publishes_the_key_of_its_secret_signed_with_it():
    key_id, key = verify_key_of_secret(A)
    status, _, body = run(get(f"https://{A.public_host}/_matrix/key/v2/server"))
    assert status == 200
    answer = json.loads(body)
    assert answer["server_name"] == A.server_name
    assert answer["verify_keys"] == {key_id: {"key": key}}
    signedjson.sign.verify_signed_json(answer, A.server_name, decoded(key_id, key))


def test_b_fetched_a_key_over_federation_and_vouches_for_it():
    a_key_id, a_key = verify_key_of_secret(A)
    b_key_id, b_key = verify_key_of_secret(B)
    keys = run(notary_keys(B, A, a_key_id))
    assert keys["verify_keys"][a_key_id] == {"key": a_key}
    # Signed by A (the origin) and by B (the notary that fetched it).
    signedjson.sign.verify_signed_json(keys, A.server_name, decoded(a_key_id, a_key))
    signedjson.sign.verify_signed_json(keys, B.server_name, decoded(b_key_id, b_key))
