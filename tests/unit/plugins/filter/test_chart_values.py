"""The checked_chart_values filter is the module_utils function; its error is Ansible's,
message only."""

import pathlib

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.filter.chart_values import FilterModule
from ansible_collections.matrixk8s.synapse.plugins.module_utils import chart_values

FILTERS = FilterModule().filters()
CHARTS = pathlib.Path(__file__).resolve().parents[4] / "charts"


def test_the_filter_is_the_function():
    assert set(FILTERS) == {"checked_chart_values"}
    assert FILTERS["checked_chart_values"].__wrapped__ is chart_values.checked_chart_values


def test_a_refusal_is_an_ansible_error_naming_the_variable():
    with pytest.raises(AnsibleFilterError) as caught:
        FILTERS["checked_chart_values"](
            {"database": {"port": 70000}},
            str(CHARTS / "synapse"),
            variables={"database.port": "synapse_database_port"},
        )
    assert str(caught.value).startswith("the synapse chart would refuse these values")
    assert "synapse_database_port (chart value database.port) must be at most 65535" in str(caught.value)
    assert caught.value.__cause__ is None
