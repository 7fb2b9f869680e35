"""homeserver_merge refuses the options that turn off federation certificate checks.

Strict or not (use_insecure_ssl_client_just_for_testing_do_not_use is not in Synapse's
schema, so strict mode alone would call it unknown; this refusal says why it is refused).
Values that leave verification on pass, so the rule refuses no harmless file.
"""

import pytest

from ansible_collections.matrixk8s.synapse.plugins.module_utils.homeserver_config import (
    HomeserverConfigError,
    homeserver_merge,
)

BASE = {"server_name": "example.com"}


@pytest.mark.parametrize(
    "override",
    [
        {"federation_verify_certificates": False},
        # Synapse reads null as "off" here, not as unset.
        {"federation_verify_certificates": None},
        {"federation_verify_certificates": 0},
        {"federation_certificate_verification_whitelist": ["*.example.org"]},
        {"use_insecure_ssl_client_just_for_testing_do_not_use": True},
    ],
)
@pytest.mark.parametrize("strict", [True, False])
def test_options_that_turn_off_verification_are_refused(override, strict):
    with pytest.raises(HomeserverConfigError) as error:
        homeserver_merge(BASE, override, strict=strict, names=["synapse_homeserver"])
    key = next(iter(override))
    assert str(error.value) == (
        f"synapse_homeserver (override 1 (argument 2)) sets '{key}', which turns off the "
        "verification of other servers' TLS certificates; the collection never does that. To "
        "trust a private CA, give it as matrix_federation_ca (the synapse role adds it to "
        "federation_custom_ca_list)"
    )


@pytest.mark.parametrize(
    "override",
    [
        {"federation_verify_certificates": True},
        {"federation_certificate_verification_whitelist": []},
        {"federation_certificate_verification_whitelist": None},
        {"federation_custom_ca_list": ["/federation-ca/ca.crt"]},
    ],
)
def test_values_that_keep_verification_on_pass(override):
    assert homeserver_merge(BASE, override) == {**BASE, **override}
