"""password_digest: what the synapse role records instead of an admin's password."""

import hashlib
import hmac

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.matrixk8s.synapse.plugins.filter.password_digest import FilterModule
from ansible_collections.matrixk8s.synapse.plugins.module_utils import password_digest as module

FILTERS = FilterModule().filters()
digest = FILTERS["password_digest"]
TEXT = st.text(min_size=1).filter(str.strip)


def test_each_filter_has_the_name_of_its_function():
    assert set(FILTERS) == {"password_digest"}
    assert digest.__wrapped__ is module.password_digest


def test_it_is_an_hmac_sha256_under_the_key_not_a_bare_hash():
    got = digest("hunter2", "k" * 64, "@admin:example.test")
    assert got.startswith("hmac-sha256:")
    value = got.split(":", 1)[1]
    assert value != hashlib.sha256(b"hunter2").hexdigest()
    expected = hmac.new(
        b"k" * 64, b"matrixk8s.synapse admin password v1\x00@admin:example.test\x00hunter2", hashlib.sha256
    ).hexdigest()
    assert value == expected


@given(password=TEXT, other=TEXT, key=TEXT, user=TEXT)
def test_it_changes_with_the_password_the_key_and_the_user(password, other, key, user):
    base = digest(password, key, user)
    assert base == digest(password, key, user)
    if password.strip() != other.strip():
        assert digest(other, key, user) != base
    assert digest(password, key + "x", user) != base
    assert digest(password, key, user + "x") != base


def test_surrounding_whitespace_is_ignored_as_register_new_matrix_user_ignores_it():
    assert digest(" pw\n", "key", "@a:b") == digest("pw", "key", "@a:b")


@pytest.mark.parametrize(
    "args", [("", "key", "@a:b"), ("pw", "", "@a:b"), ("pw", "key", ""), (None, "k", "@a:b")]
)
def test_empty_arguments_are_refused_without_quoting_them(args):
    with pytest.raises(AnsibleFilterError, match=r"password_digest: the (password|key|user_id) must be"):
        digest(*args)
