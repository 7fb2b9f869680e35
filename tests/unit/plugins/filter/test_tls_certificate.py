"""TLS certificate filters: each is its module_utils function, and errors become Ansible's."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.filter.tls_certificate import FilterModule
from ansible_collections.matrixk8s.synapse.plugins.module_utils import tls_certificate

FILTERS = FilterModule().filters()


def test_each_filter_has_the_name_of_its_function():
    assert set(FILTERS) == {"tls_secret_problem", "federation_ca_problem", "tls_certificate_hosts"}
    for name, function in FILTERS.items():
        assert function.__wrapped__ is getattr(tls_certificate, name)


def test_a_pem_without_certificate_is_an_ansible_error_naming_where():
    with pytest.raises(AnsibleFilterError, match="tls.crt holds no PEM certificate"):
        FILTERS["tls_certificate_hosts"]("nothing here", where="tls.crt")
