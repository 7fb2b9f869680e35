"""The email_section and email_password_reference filters: module_utils' functions, errors
as Ansible's (message only)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.filter.email_config import FilterModule
from ansible_collections.matrixk8s.synapse.plugins.module_utils import email_config as module

FILTERS = FilterModule().filters()
EMAIL = {
    "smtp_host": "smtp.example.com",
    "notif_from": "Matrix <matrix@example.com>",
    "smtp_user": "matrix",
    "smtp_pass_secret": {"secret": "smtp"},
}


def test_each_filter_has_the_name_of_its_function():
    assert set(FILTERS) == {"email_section", "email_password_reference"}
    assert FILTERS["email_section"].__wrapped__ is module.email_section
    assert FILTERS["email_password_reference"].__wrapped__ is module.email_password_reference


def test_the_filters_compute_the_section_and_the_reference():
    assert FILTERS["email_section"](EMAIL, smtp_pass="pw")["smtp_pass"] == "pw"
    assert FILTERS["email_password_reference"](EMAIL) == {"secret": "smtp", "key": "password"}


def test_a_mistake_is_an_ansible_filter_error_with_the_message_alone():
    with pytest.raises(AnsibleFilterError) as caught:
        FILTERS["email_section"]({**EMAIL, "tls": "ssl"}, smtp_pass="hunter2-password")
    assert str(caught.value).startswith("synapse_email.tls must be one of starttls, tls, none")
    assert caught.value.__cause__ is None
    assert "hunter2-password" not in str(caught.value)
    with pytest.raises(AnsibleFilterError, match=r"^synapse_email.smtp_pass_secret must be a mapping"):
        FILTERS["email_password_reference"]({**EMAIL, "smtp_pass_secret": ["smtp"]})
