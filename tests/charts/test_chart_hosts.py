"""The charts refuse the hosts the roles refuse: one grammar (issue 12, finding 4).

The roles check hosts with plugins/module_utils/homeserver_config.py (checked_host,
checked_server_name); the charts' schemas (charts/schema/definitions/hostname.json, the
well-known chart's m.server) hold the same grammar as patterns. Helm itself judges the
refusals here; the agreement test compares the schema patterns with the Python functions on
many names at once (Helm's and Python's regular expressions agree on these patterns: no
look-around, anchors only at the ends).
"""

import json
import re

import pytest
from chartlib import CHARTS_DIR, REQUIRED_SET

from ansible_collections.matrixk8s.synapse.plugins.module_utils.homeserver_config import (
    HomeserverConfigError,
    checked_host,
    checked_server_name,
)

BAD_HOSTS = [
    "Example.COM",
    "matrix.example.com:8448",
    "a" * 64 + ".example.com",
    ".".join(["a" * 63] * 4) + ".x",
    "-matrix.example.com",
    "matrix..example.com",
    "matrix example.com",
    "matrix.example.com\n",
]
GOOD_HOSTS = ["matrix.example.com", "a" * 63 + ".example", "x", "1-2.example"]
SERVER_NAMES = [
    *BAD_HOSTS,
    *GOOD_HOSTS,
    "example.com:8448",
    "example.com:0",
    "example.com:65535",
    "example.com:65536",
    "example.com:²",
    "[::1]",
    "[::1]:8448",
    "1.2.3.4",
    "1.2.3.4:443",
]


def _pattern(chart, *path):
    schema = json.loads((CHARTS_DIR / chart / "values.schema.json").read_text())
    node = schema
    for key in path:
        node = node[key]
    return node


def _go_pattern(pattern):
    """The pattern for Python as Go (Helm) reads it: Go's "$" matches only at the very end,
    Python's also before a final newline."""
    return pattern.replace("$", r"\Z")


def _accepted(accepts, value):
    try:
        accepts(value)
    except HomeserverConfigError:
        return False
    return True


@pytest.mark.parametrize("chart", ["synapse", "well-known"])
@pytest.mark.parametrize("host", [*BAD_HOSTS[:3], "matrix.example.com\n"])
def test_helm_refuses_a_bad_ingress_host(helm, chart, host):
    result = helm.template(
        chart,
        set_values=[*REQUIRED_SET[chart], "ingress.enabled=true"],
        set_json=[f"ingress.host={json.dumps(host)}"],
    )
    assert result.returncode != 0, result.stdout[:300]
    assert "/ingress/host" in result.stderr


@pytest.mark.parametrize("chart", ["synapse", "well-known"])
def test_helm_refuses_a_bad_tls_host(helm, chart):
    result = helm.template(
        chart,
        set_values=[*REQUIRED_SET[chart], "ingress.enabled=true", "ingress.host=matrix.example.com"],
        set_json=['ingress.tls=[{"secretName": "t", "hosts": ["Matrix.example.com"]}]'],
    )
    assert result.returncode != 0, result.stdout[:300]
    assert "/ingress/tls/0/hosts/0" in result.stderr


@pytest.mark.parametrize("server", ["Example.COM:443", "[1.2.3.4]x", "example.com:65536", "example.com:²"])
def test_helm_refuses_a_bad_delegation_target(helm, server):
    result = helm.template(
        "well-known", set_values=REQUIRED_SET["well-known"], set_json=[f'server={{"m.server": "{server}"}}']
    )
    assert result.returncode != 0, result.stdout[:300]
    assert "m.server" in result.stderr


def test_hostname_pattern_agrees_with_checked_host():
    definition = _pattern("synapse", "definitions", "hostname")
    for host in BAD_HOSTS + GOOD_HOSTS:
        by_schema = (
            len(host) <= definition["maxLength"]
            and re.search(_go_pattern(definition["pattern"]), host) is not None
        )
        assert by_schema == _accepted(lambda v: checked_host(v, "x"), host), host


def test_delegation_pattern_accepts_what_checked_server_name_accepts():
    node = _pattern("well-known", "properties", "server", "properties", "m.server")
    for name in SERVER_NAMES:
        by_schema = (
            len(name) <= node["maxLength"] and re.search(_go_pattern(node["pattern"]), name) is not None
        )
        if _accepted(checked_server_name, name):
            assert by_schema, name
        elif not name.startswith("["):  # the schema checks IPv6 literals loosely
            assert not by_schema, name
