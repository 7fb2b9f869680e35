"""The synapse_config filter file exposes module_utils/synapse_config_check.py (tested there)."""

from ansible_collections.matrixk8s.synapse.plugins.filter.synapse_config import FilterModule
from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_config_check import (
    synapse_config_complaint,
)

LOG = "Traceback (most recent call last):\n  File \"x\"\nTypeError: Bad byte size 'p4ssw0rd'\n"


def test_the_filter_is_the_function():
    complaint = FilterModule().filters()["synapse_config_complaint"](LOG, "max_upload_size: p4ssw0rd\n")
    assert complaint == synapse_config_complaint(LOG, "max_upload_size: p4ssw0rd\n")
    assert complaint == "TypeError: Bad byte size '<value>'"
