"""The homeserver filters: each named as its function, errors as Ansible's, server names checked."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.filter.homeserver import FilterModule
from ansible_collections.matrixk8s.synapse.plugins.module_utils import homeserver_config

FILTERS = FilterModule().filters()
checked_server_name = FILTERS["checked_server_name"]


def test_each_filter_has_the_name_of_its_function():
    assert set(FILTERS) == {"homeserver_merge", "checked_server_name", "checked_host"}
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


# Issue 12, finding 4: names that pass a loose check but can never be deployed. Each message
# names the variable and says what was expected.
SERVER_NAME_REFUSALS = [
    ("Example.COM", "write it in lower case (example.com)"),
    ("example.com\n", "labels hold only letters, digits and '-'"),
    ("example.com:²", "has an invalid port '²': expected 1-65535 in ASCII digits"),
    ("example.com:٨٤٤٨", "has an invalid port '٨٤٤٨': expected 1-65535 in ASCII digits"),
    ("example.com:８４４８", "has an invalid port"),
    ("a" * 64 + ".example.com", "a label has 64 characters, at most 63 are allowed"),
    (".".join(["a" * 63] * 4) + ".example", "characters long, at most 255 are allowed"),
    ("[1.2.3.4]", "an IPv4 address is written without brackets"),
    ("[1.2.3.4]:8448", "an IPv4 address is written without brackets"),
    ("[not-an-address]", "the brackets hold no valid IPv6 address"),
    ("[::1", "no ']' closes"),
    ("1.2.3.400", "looks like an IPv4 address but is not one"),
    ("::1", "must be written in brackets"),
    ("exämple.com", "outside ASCII"),
    ("example.com:", "has an invalid port ''"),
    ("example.com:65536", "has an invalid port '65536'"),
    ("example.com:080808", "has an invalid port '080808'"),
]


@pytest.mark.parametrize(("value", "reason"), SERVER_NAME_REFUSALS)
def test_undeployable_server_names_are_refused_saying_what_was_expected(value, reason):
    with pytest.raises(AnsibleFilterError) as error:
        checked_server_name(value)
    message = str(error.value)
    assert message.startswith(f"matrix_server_name {value!r} "), message
    assert reason in message
    assert "expected" in message


@pytest.mark.parametrize("value", ["[::1]", "[::1]:8448", "1.2.3.4", "a" * 63 + ".example", "x.y:65535"])
def test_the_limits_themselves_are_accepted(value):
    assert checked_server_name(value) == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("Matrix.Example.com", "write it in lower case (matrix.example.com)"),
        ("matrix.example.com:8448", "labels hold only letters"),
        ("1.2.3.4:80", "labels hold only letters"),
        ("matrix.example.com\n", "labels hold only letters"),
        ("b" * 64 + ".example", "a label has 64 characters"),
        (".".join(["a" * 63] * 4) + ".x", "at most 253 are allowed"),
    ],
)
def test_hosts_are_lower_case_dns_names_without_port(value, reason):
    with pytest.raises(AnsibleFilterError) as error:
        FILTERS["checked_host"](value, name="synapse_public_host")
    message = str(error.value)
    assert message.startswith(f"synapse_public_host {value!r} is not a valid host name: ")
    assert reason in message
    assert "expected a lower-case DNS name" in message


def test_a_host_passes_through():
    assert FILTERS["checked_host"]("matrix.example.com", name="x") == "matrix.example.com"
