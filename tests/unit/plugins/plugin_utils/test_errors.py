"""raises_as: the collection's errors become Ansible's, with the message and nothing more."""

import pytest
from ansible.errors import AnsibleFilterError, AnsibleLookupError

from ansible_collections.matrixk8s.synapse.plugins.module_utils.errors import MatrixK8sError
from ansible_collections.matrixk8s.synapse.plugins.plugin_utils.errors import raises_as

SECRET = "hunter2-do-not-print"


def refuse(value, name="db_password"):
    raise MatrixK8sError(f"{name} must be at least 32 characters")


def test_message_is_kept_and_the_input_is_not_added():
    with pytest.raises(AnsibleFilterError) as error:
        raises_as(AnsibleFilterError)(refuse)(SECRET)
    assert error.value.message == "db_password must be at least 32 characters"
    assert SECRET not in str(error.value)


def test_named_puts_the_function_name_first():
    with pytest.raises(AnsibleLookupError) as error:
        raises_as(AnsibleLookupError, named=True)(refuse)(SECRET, name="x")
    assert error.value.message == "refuse: x must be at least 32 characters"


def test_chaining_is_suppressed():
    # Otherwise Ansible prints the original exception, and its arguments, after the message.
    with pytest.raises(AnsibleFilterError) as error:
        raises_as(AnsibleFilterError)(refuse)(SECRET)
    assert error.value.__cause__ is None
    assert error.value.__suppress_context__ is True


def test_other_errors_keep_their_type_and_traceback():
    # A bug is not a user mistake: it must not be dressed up as one.
    def broken(_value):
        raise KeyError("metadata")

    with pytest.raises(KeyError):
        raises_as(AnsibleFilterError)(broken)({})


def test_the_wrapper_keeps_the_name_and_the_result():
    wrapped = raises_as(AnsibleFilterError)(str.upper)
    assert wrapped.__name__ == "upper"
    assert wrapped.__wrapped__ is str.upper
    assert wrapped("abc") == "ABC"
