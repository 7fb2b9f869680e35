"""Other servers trust us by the key Synapse publishes: it must be the one in our Secret.

The expected verify key comes from the collection's own code (signing_key_verify_key's
logic, module_utils.signing_key) applied to Secret synapse-signing-key; signedjson, the
library Synapse itself uses, checks the signature of Synapse's answer.
"""

from __future__ import annotations

import importlib.metadata
import json
import time
import urllib.request

import pytest
import signedjson.key
import signedjson.sign

from ansible_collections.matrixk8s.synapse.plugins.module_utils import signing_key


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers.get_content_type() == "application/json"
        return json.load(response)


@pytest.fixture(scope="module")
def server_keys(synapse):
    return get_json(f"{synapse.url}/_matrix/key/v2/server")


def decoded_verify_key(key_id: str, base64_key: str):
    algorithm, version = key_id.split(":", 1)
    return signedjson.key.decode_verify_key_base64(algorithm, version, base64_key)


def test_key_server_publishes_the_verify_key_of_our_secret(server_keys, artifacts, loopback):
    line = artifacts.signing_key
    assert server_keys["server_name"] == loopback.homeserver["server_name"]
    assert server_keys["verify_keys"] == {
        signing_key.signing_key_id(line): {"key": signing_key.signing_key_verify_key(line)}
    }
    # What the role keeps in old_signing_keys (nothing until a rotation) is what is published.
    published_old = {k: v["key"] for k, v in server_keys["old_verify_keys"].items()}
    assert published_old == {
        k: v["key"] for k, v in (loopback.homeserver.get("old_signing_keys") or {}).items()
    }
    assert server_keys["valid_until_ts"] > time.time() * 1000


def test_key_server_answer_is_signed_with_that_key(server_keys, artifacts, loopback):
    line = artifacts.signing_key
    key = decoded_verify_key(signing_key.signing_key_id(line), signing_key.signing_key_verify_key(line))
    signedjson.sign.verify_signed_json(server_keys, loopback.homeserver["server_name"], key)
    assert list(server_keys["signatures"][loopback.homeserver["server_name"]]) == [
        signing_key.signing_key_id(line)
    ]


def test_signature_check_fails_with_another_key(server_keys, artifacts, loopback):
    """The check above can fail: another key of the same id does not verify the answer."""
    other = signing_key.signing_key_generate(
        key_id=signing_key.signing_key_id(artifacts.signing_key).split(":", 1)[1]
    )
    key = decoded_verify_key(signing_key.signing_key_id(other), signing_key.signing_key_verify_key(other))
    with pytest.raises(signedjson.sign.SignatureVerifyException):
        signedjson.sign.verify_signed_json(server_keys, loopback.homeserver["server_name"], key)


def test_federation_api_is_served_on_the_client_listener(synapse):
    version = get_json(f"{synapse.url}/_matrix/federation/v1/version")
    assert version["server"]["name"] == "Synapse"
    assert version["server"]["version"].startswith(importlib.metadata.version("matrix-synapse"))
