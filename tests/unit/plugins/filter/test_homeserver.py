"""The homeserver filters: each named as its function, errors as Ansible's, server names checked."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.filter.homeserver import FilterModule
from ansible_collections.matrixk8s.synapse.plugins.module_utils import homeserver_config

FILTERS = FilterModule().filters()
checked_server_name = FILTERS["checked_server_name"]


def test_each_filter_has_the_name_of_its_function():
    assert set(FILTERS) == {"homeserver_merge", "checked_server_name"}
    for name, function in FILTERS.items():
        assert function.__wrapped__ is getattr(homeserver_config, name)


def test_merge_errors_are_ansible_filter_errors_naming_the_filter():
    with pytest.raises(AnsibleFilterError, match="^homeserver_merge: override 1"):
        FILTERS["homeserver_merge"]({"server_name": "example.com"}, {"enable_registraton": True})


@pytest.mark.parametrize(
    "value",
    [
        "example.com",
        "matrix.example.com:8448",
        "localhost",
        "1.2.3.4",
        "1.2.3.4:443",
        "[::1]",
        "[2001:db8::1]:8448",
        "a-b.example",
    ],
)
def test_valid_server_names_pass_through(value):
    assert checked_server_name(value) == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("https://example.com", "has an invalid port '//example.com'"),
        ("example.com:0", "has an invalid port '0'"),
        ("example.com:99999", "has an invalid port '99999'"),
        ("exa mple.com", "is not a valid Matrix server name"),
        ("-example.com", "is not a valid Matrix server name"),
        ("example..com", "is not a valid Matrix server name"),
        ("example.com/", "is not a valid Matrix server name"),
    ],
)
def test_invalid_server_names_are_refused_with_the_variable_named(value, reason):
    with pytest.raises(AnsibleFilterError) as error:
        checked_server_name(value)
    assert str(error.value).startswith(f"matrix_server_name {value!r} ")
    assert reason in str(error.value)


@pytest.mark.parametrize("value", ["", None, 42])
def test_empty_or_non_string_is_refused(value):
    with pytest.raises(AnsibleFilterError, match="^my_var must be a non-empty string"):
        checked_server_name(value, name="my_var")
