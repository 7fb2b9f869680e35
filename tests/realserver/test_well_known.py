"""nginx with the well-known chart's ConfigMap answers as the Matrix spec asks.

Server-server API, "Resolving server names": GET /.well-known/matrix/server returns JSON
{"m.server": "<hostname>[:<port>]"}; we require the port (without it other servers try
8448 on the delegated host). Client-server API, "Well-known URIs": /client is JSON with
m.homeserver.base_url, served with `Access-Control-Allow-Origin: *` so web clients can
read it; base_url must lead to a homeserver (clients GET <base_url>/_matrix/client/versions).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

# A server name's host (DNS name, IPv4 or [IPv6]) with the explicit port we insist on.
M_SERVER = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>[0-9]{1,5})$")


def fetch(url: str, method: str = "GET", headers=None):
    """(status, headers, body) of a request, error answers included."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def json_document(nginx, name):
    status, headers, body = fetch(f"{nginx.url}/.well-known/matrix/{name}")
    assert status == 200, (status, body[:200])
    assert headers.get_content_type() == "application/json", headers["Content-Type"]
    return headers, json.loads(body)


def test_server_document_delegates_with_an_explicit_port(nginx, rendered):
    _, document = json_document(nginx, "server")
    # Served as rendered: the remap does not touch this document.
    assert document == rendered.well_known["server.json"]
    assert set(document) == {"m.server"}
    match = M_SERVER.match(document["m.server"])
    assert match, f"m.server {document['m.server']!r} is not host:port"
    assert 0 < int(match["port"]) < 65536


def test_server_document_names_the_host_synapse_is_published_on(rendered):
    """Federation and clients reach the same host: m.server's host is public_baseurl's."""
    host = M_SERVER.match(rendered.well_known["server.json"]["m.server"])["host"]
    public = urllib.parse.urlsplit(rendered.homeserver["public_baseurl"])
    assert host == public.hostname
    client_base = urllib.parse.urlsplit(rendered.well_known["client.json"]["m.homeserver"]["base_url"])
    assert (client_base.scheme, client_base.hostname) == (public.scheme, public.hostname)


def test_client_document_has_cors_and_a_base_url_that_resolves(nginx, synapse):
    headers, document = json_document(nginx, "client")
    assert headers["Access-Control-Allow-Origin"] == "*"
    base_url = document["m.homeserver"]["base_url"]
    status, version_headers, body = fetch(base_url.rstrip("/") + "/_matrix/client/versions")
    assert status == 200
    assert version_headers.get_content_type() == "application/json"
    versions = json.loads(body)["versions"]
    assert any(v.startswith("v1.") for v in versions), versions
    assert base_url.rstrip("/") == synapse.url


def test_client_document_keeps_the_extra_keys_of_the_inventory(nginx, rendered):
    _, document = json_document(nginx, "client")
    extra = {k: v for k, v in rendered.well_known["client.json"].items() if k != "m.homeserver"}
    assert {k: v for k, v in document.items() if k != "m.homeserver"} == extra


def test_cors_preflight_of_the_client_document(nginx):
    status, headers, _ = fetch(
        f"{nginx.url}/.well-known/matrix/client",
        method="OPTIONS",
        headers={"Origin": "https://app.element.io", "Access-Control-Request-Method": "GET"},
    )
    assert status in (200, 204)
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in headers["Access-Control-Allow-Methods"]


def test_support_document_is_served_as_rendered(nginx, rendered):
    if "support.json" not in rendered.well_known:
        status, headers, _ = fetch(f"{nginx.url}/.well-known/matrix/support")
        assert status == 404
        return
    _, document = json_document(nginx, "support")
    assert document == rendered.well_known["support.json"]
    assert document.get("contacts") or document.get("support_page")
    for contact in document.get("contacts", []):
        assert contact.get("matrix_id") or contact.get("email_address"), contact
        assert contact["role"].startswith("m.role.") or "." in contact["role"]


@pytest.mark.parametrize("path", ["/.well-known/matrix/nothing", "/", "/index.html"])
def test_anything_else_is_404(nginx, path):
    status, _, _ = fetch(nginx.url + path)
    assert status == 404
