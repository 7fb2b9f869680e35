"""The unknown_role_variables filter is the module_utils function, errors named."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.filter.role_variables import FilterModule
from ansible_collections.matrixk8s.synapse.plugins.module_utils import role_variables

FILTERS = FilterModule().filters()


def test_the_filter_is_the_function():
    assert set(FILTERS) == {"unknown_role_variables"}
    assert FILTERS["unknown_role_variables"].__wrapped__ is role_variables.unknown_role_variables


def test_dict_keys_as_ansible_hands_them_over():
    names = {"well_known_client_extras": {}, "well_known_host": "x"}.keys()
    assert FILTERS["unknown_role_variables"](
        names, "well_known_", ["well_known_client_extra", "well_known_host"]
    ) == ["well_known_client_extras (did you mean well_known_client_extra?)"]


def test_a_name_that_is_not_iterable_is_an_ansible_error():
    with pytest.raises(AnsibleFilterError, match="names must be a list of variable names, got NoneType"):
        FILTERS["unknown_role_variables"](None, "x_", [])
