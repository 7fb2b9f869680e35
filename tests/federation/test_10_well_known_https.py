"""Delegation as another server sees it: https://<server name>/.well-known/matrix/* on port 443,
through the ingress, with a certificate for the apex name from the local CA. A is served by
the well-known chart's nginx (mode nginx), which delegates to the public host; B by Synapse
itself (mode synapse), which can only name the server name: the apex Ingress then carries
federation too. Both paths end at a Synapse answering federation over verified TLS."""

from __future__ import annotations

import json

import pytest

from .fedlib import A, B, get, run

# Where each mode sends other servers.
DELEGATED = {A: f"{A.public_host}:443", B: f"{B.server_name}:443"}


def delegated_host(server) -> str:
    status, headers, body = run(get(f"https://{server.server_name}/.well-known/matrix/server"))
    assert status == 200
    assert headers["Content-Type"].split(";")[0] == "application/json"
    return json.loads(body)["m.server"]


@pytest.mark.parametrize("server", [A, B], ids=lambda s: s.server_name)
def test_server_file_delegates_over_https_with_an_explicit_port(server):
    assert delegated_host(server) == DELEGATED[server]


@pytest.mark.parametrize("server", [A, B], ids=lambda s: s.server_name)
def test_client_file_is_json_with_cors_for_web_clients(server):
    status, headers, body = run(get(f"https://{server.server_name}/.well-known/matrix/client"))
    assert status == 200
    assert headers["Content-Type"].split(";")[0] == "application/json"
    assert headers.get("Access-Control-Allow-Origin") == "*"
    assert json.loads(body)["m.homeserver"]["base_url"].rstrip("/") == server.client_url


@pytest.mark.parametrize("server", [A, B], ids=lambda s: s.server_name)
def test_federation_endpoint_answers_through_the_delegated_host(server):
    host = delegated_host(server).removesuffix(":443")
    status, _, body = run(get(f"https://{host}/_matrix/federation/v1/version"))
    assert status == 200
    assert json.loads(body)["server"]["name"] == "Synapse"
