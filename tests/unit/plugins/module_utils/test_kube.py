"""The Kubernetes grammar in module_utils/kube.py, by example (the laws: test/test_kube.py)."""

import pytest

from ansible_collections.matrixk8s.synapse.plugins.module_utils.kube import (
    go_duration,
    k8s_name,
    k8s_quantity,
    k8s_subdomain,
)

NOT_STRINGS = [None, 42, 1.5, True, ["matrix"], {"name": "matrix"}, b"matrix"]


@pytest.mark.parametrize("value", ["matrix", "a", "0", "synapse-1", "a" * 63, "9z"])
def test_dns_labels(value):
    assert k8s_name(value)


@pytest.mark.parametrize(
    "value",
    ["", "Matrix", "-matrix", "matrix-", "a" * 64, "my.ns", "my_ns", "matrix\n", " matrix", "mätrix"],
)
def test_not_dns_labels(value):
    assert not k8s_name(value)


@pytest.mark.parametrize(
    "value", ["synapse-signing-key", "a.b.c", "sh.helm.release.v1.pg.v1", "a" * 253, "x" * 64 + ".y"]
)
def test_dns_subdomains(value):
    assert k8s_subdomain(value)


@pytest.mark.parametrize(
    "value", ["", "a..b", ".a", "a.", "A.b", "a-.b", "a." + "b" * 252, "secret\n", "a_b"]
)
def test_not_dns_subdomains(value):
    assert not k8s_subdomain(value)


@pytest.mark.parametrize("value", ["10Gi", "1", "1.5", "500M", "2k", "1Ei", "0"])
def test_quantities(value):
    assert k8s_quantity(value)


@pytest.mark.parametrize("value", ["", "10GB", "Gi", "1.", ".5", "-1Gi", "10 Gi", "10Gi\n", "1e3", "10gi"])
def test_not_quantities(value):
    assert not k8s_quantity(value)


@pytest.mark.parametrize("value", ["10m", "1m30s", "500ms", "1.5h", "90s", "1h2m3s"])
def test_go_durations(value):
    assert go_duration(value)


@pytest.mark.parametrize("value", ["", "10", "m5", "1m 30s", "10 minutes", " 10m", "10m\n", "1d", "-5s"])
def test_not_go_durations(value):
    assert not go_duration(value)


@pytest.mark.parametrize("check", [k8s_name, k8s_subdomain, k8s_quantity, go_duration])
@pytest.mark.parametrize("value", NOT_STRINGS, ids=repr)
def test_anything_but_a_string_is_false_not_an_error(check, value):
    assert check(value) is False
