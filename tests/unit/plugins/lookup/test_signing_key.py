"""lookup('matrixk8s.synapse.signing_key'): a new key line on every call, loaded as Ansible loads it."""

import base64
import re

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

from ansible_collections.matrixk8s.synapse.plugins.module_utils.signing_key import signing_key_canonical

LINE_FORMAT = re.compile(r"ed25519 a_[A-Za-z0-9]{4} [A-Za-z0-9+/]{43}")


@pytest.fixture(scope="module")
def new_key():
    # Through Ansible's plugin loader (tests/conftest.py installed the collection loader), so
    # the lookup's options come from its DOCUMENTATION as in a play.
    lookup = lookup_loader.get("matrixk8s.synapse.signing_key")
    assert lookup is not None

    def run(*terms, **options):
        return lookup.run(list(terms), variables={}, **options)

    return run


def test_generated_key_has_synapse_format(new_key):
    (line,) = new_key()
    assert LINE_FORMAT.fullmatch(line), line
    assert len(base64.b64decode(line.split()[2] + "=")) == 32
    assert new_key("ed25519")[0].startswith("ed25519 ")


def test_two_calls_give_different_keys_each_valid(new_key):
    lines = [new_key()[0] for _ in range(20)]
    assert len(set(lines)) == 20
    assert len({line.split()[2] for line in lines}) == 20
    for line in lines:
        assert signing_key_canonical(line) == line


def test_one_key_per_term(new_key):
    first, second = new_key("ed25519", "ed25519")
    assert first != second


def test_generate_with_a_chosen_key_id(new_key):
    assert new_key("ed25519", key_id="a_2025")[0].startswith("ed25519 a_2025 ")


def test_generate_refuses_other_algorithms_and_bad_ids(new_key):
    with pytest.raises(
        AnsibleLookupError, match=r"^only ed25519 signing keys exist in Matrix \(algorithm\)$"
    ):
        new_key("rsa")
    with pytest.raises(
        AnsibleLookupError, match="^key_id may hold only 1 to 255 letters, digits and underscores$"
    ):
        new_key(key_id="a b")
