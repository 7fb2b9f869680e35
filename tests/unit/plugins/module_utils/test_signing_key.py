"""Key generation in module_utils: the seed comes from the operating system's CSPRNG."""

import base64

from ansible_collections.matrixk8s.synapse.plugins.module_utils import signing_key

SEED = bytes(range(32))


def test_module_utils_seed_comes_from_secrets(monkeypatch):
    calls = []

    def fake_token_bytes(n):
        calls.append(n)
        return SEED

    monkeypatch.setattr(signing_key.secrets, "token_bytes", fake_token_bytes)
    line = signing_key.signing_key_generate()
    assert calls == [32]
    assert line.split()[2] == base64.b64encode(SEED).decode().rstrip("=")
