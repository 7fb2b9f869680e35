"""Signing-key filters: validation messages, verify key, key id, rotation entries.

A new key comes from the lookup (tests/unit/plugins/lookup/test_signing_key.py).
"""

import base64

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.filter.signing_key import FilterModule
from ansible_collections.matrixk8s.synapse.plugins.module_utils import signing_key

FILTERS = FilterModule().filters()
# RFC 8032 section 7.1, test 1: a known seed and its public key.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_LINE = "ed25519 a_test " + base64.b64encode(RFC8032_SEED).decode().rstrip("=")


def test_each_filter_has_the_name_of_its_function():
    assert set(FILTERS) == {
        "signing_key_canonical",
        "signing_key_problem",
        "signing_key_verify_key",
        "signing_key_id",
        "signing_key_old_entry",
    }
    for name, function in FILTERS.items():
        assert function.__wrapped__ is getattr(signing_key, name)


def test_verify_key_matches_rfc8032_vector():
    expected = base64.b64encode(RFC8032_PUBLIC).decode().rstrip("=")
    assert FILTERS["signing_key_verify_key"](RFC8032_LINE) == expected


def test_key_id():
    assert FILTERS["signing_key_id"](RFC8032_LINE) == "ed25519:a_test"


def test_canonical_drops_padding_and_extra_whitespace():
    padded = "  ed25519   a_test   " + base64.b64encode(RFC8032_SEED).decode() + "\n\n"
    assert FILTERS["signing_key_canonical"](padded) == RFC8032_LINE


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "",
            "signing_key_value must hold exactly one key line 'ed25519 <version> <base64 seed>', "
            "found 0 lines",
        ),
        (RFC8032_LINE + "\n" + RFC8032_LINE, "found 2 lines"),
        (
            "ed25519 a_test",
            "signing_key_value must have three fields 'ed25519 <version> <base64 seed>', found 2",
        ),
        (
            "rsa a_test AAAA",
            "signing_key_value: the first field must be 'ed25519'; it is another 3-character text",
        ),
        (
            "ed25519 a-test " + RFC8032_LINE.split()[2],
            "signing_key_value: the second field must be a key version of 1 to 255 letters, digits "
            "and underscores; it is another 6-character text",
        ),
        (
            "ed25519 a_test !!!notbase64",
            "signing_key_value: the third field (the seed, 12 characters) is not valid base64",
        ),
        ("ed25519 a_test AAAA", "signing_key_value: the seed must decode to 32 bytes, it decodes to 3"),
        (42, "signing_key_value must be a string, got int"),
    ],
)
def test_malformed_keys_are_refused_with_the_variable_named(line, message):
    with pytest.raises(AnsibleFilterError) as error:
        FILTERS["signing_key_canonical"](line)
    assert message in str(error.value)


def test_error_never_repeats_the_key_material():
    seed = RFC8032_LINE.split()[2]
    with pytest.raises(AnsibleFilterError) as error:
        FILTERS["signing_key_canonical"]("ed25519 a-bad " + seed)
    assert seed not in str(error.value)


def test_canonical_names_the_variable_it_is_given():
    with pytest.raises(AnsibleFilterError, match="^vault_signing_key: the first field must be"):
        FILTERS["signing_key_canonical"]("rsa a b", name="vault_signing_key")


def test_old_entry_for_rotation():
    entry = FILTERS["signing_key_old_entry"](RFC8032_LINE, 1_700_000_000_000)
    assert entry == {
        "ed25519:a_test": {
            "key": base64.b64encode(RFC8032_PUBLIC).decode().rstrip("="),
            "expired_ts": 1_700_000_000_000,
        }
    }
    assert FILTERS["signing_key_old_entry"](RFC8032_LINE, "1700000000000") == entry


@pytest.mark.parametrize("expired_ts", [0, -5, "soon", True, 1.5, None])
def test_old_entry_needs_a_positive_millisecond_timestamp(expired_ts):
    with pytest.raises(AnsibleFilterError, match="expired_ts must be a positive integer of milliseconds"):
        FILTERS["signing_key_old_entry"](RFC8032_LINE, expired_ts)
