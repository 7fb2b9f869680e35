"""The routing table: reviewed for the pinned Synapse, every pattern valid, the router it renders."""

import pathlib
import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_worker_config import derive_workers
from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_worker_routes import (
    ROUTES,
    ROUTES_SYNAPSE_VERSION,
    compiled_routes,
    render_nginx_router,
    route_of,
    routes_for,
    size_bytes,
    upstream_name,
)
from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_worker_types import WORKER_TYPES

REPO = pathlib.Path(__file__).resolve().parents[4]
NETWORK = {"main_host": "main.svc", "instance_host": "{instance}.w.svc"}
REDIS = {"host": "redis"}


def pinned_synapse_versions():
    """Every place the project pins the Synapse it runs, and the version each pins."""
    found = {}
    for line in (REPO / "dev/requirements/test.txt").read_text().splitlines():
        if line.startswith("matrix-synapse"):
            found["dev/requirements/test.txt"] = line.split("==")[1].strip()
    for line in (REPO / "dev/images/synapse/image.env").read_text().splitlines():
        if line.startswith("SYNAPSE_VERSION="):
            found["dev/images/synapse/image.env"] = line.split("=", 1)[1].strip()
    defaults = yaml.safe_load((REPO / "roles/synapse/defaults/main.yml").read_text())
    found["roles/synapse/defaults/main.yml"] = str(defaults["synapse_image_tag"]).removeprefix("v")
    values = yaml.safe_load((REPO / "charts/synapse/values.yaml").read_text())
    found["charts/synapse/values.yaml"] = str(values["image"]["tag"]).removeprefix("v")
    return found


def test_the_table_was_reviewed_for_the_pinned_synapse():
    pins = pinned_synapse_versions()
    assert len(pins) == 4
    stale = {where: version for where, version in pins.items() if version != ROUTES_SYNAPSE_VERSION}
    assert not stale, (
        f"Synapse is pinned to {stale}, but the worker routing table records {ROUTES_SYNAPSE_VERSION}: "
        "compare docs/workers.md of the new version with synapse_worker_routes.ROUTES, then update "
        "ROUTES_SYNAPSE_VERSION"
    )


def test_every_pattern_compiles_and_is_anchored():
    compiled = compiled_routes()
    assert len(compiled) == sum(len(patterns) for _, _, patterns in ROUTES)
    for worker, pattern in compiled:
        assert pattern.pattern.startswith("^/_"), (worker, pattern.pattern)
        # nginx reads the pattern inside double quotes: none may hold one, or a brace.
        assert not set(pattern.pattern) & set('"{};'), pattern.pattern


def test_every_routed_type_is_a_type_with_a_client_facing_listener():
    for worker, _, _ in ROUTES:
        assert WORKER_TYPES[worker].resources, worker
        assert set(WORKER_TYPES[worker].resources) & {"client", "federation", "media"}


def test_types_without_endpoints_have_no_routes():
    routed = {worker for worker, _, _ in ROUTES}
    for name in ("federation_sender", "pusher", "appservice", "background_worker", "event_persister"):
        assert name not in routed


ALL = set(WORKER_TYPES)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/_matrix/client/v3/sync", "synchrotron"),
        ("/_matrix/client/r0/sync", "synchrotron"),
        ("/_matrix/client/v3/rooms/!a:x/send/m.room.message/t1", "event_creator"),
        ("/_matrix/client/v3/rooms/!a:x/state/m.room.name/", "event_creator"),
        ("/_matrix/client/v3/rooms/!a:x/state", "client_reader"),
        ("/_matrix/client/v3/rooms/!a:x/typing/@u:x", "typing_writer"),
        ("/_matrix/client/v3/sendToDevice/m.x/1", "to_device_writer"),
        ("/_matrix/client/v3/user/@u:x/rooms/!a:x/tags", "account_data_writer"),
        ("/_matrix/client/v3/rooms/!a:x/receipt/m.read/$e", "receipts_writer"),
        ("/_matrix/client/v3/presence/@u:x/status", "presence_writer"),
        ("/_matrix/client/v3/keys/upload", "device_lists_writer"),
        ("/_matrix/client/v3/keys/query", "client_reader"),
        ("/_matrix/client/v3/login", "client_reader"),
        ("/_matrix/media/v3/upload", "media_repository"),
        ("/_matrix/client/v1/media/download/x/y", "media_repository"),
        ("/_matrix/federation/v1/media/download/y", "media_repository"),
        ("/_matrix/federation/v1/send/123", "federation_reader"),
        ("/_matrix/key/v2/query", "federation_reader"),
        ("/_matrix/client/v3/user_directory/search", "user_dir"),
        # Left on the main process on purpose.
        ("/_matrix/client/v3/rooms/!a:x/messages", "main"),
        ("/_matrix/key/v2/server", "main"),
        ("/_matrix/client/v3/login/sso/redirect", "main"),
        ("/_synapse/admin/v1/register", "main"),
        ("/health", "main"),
    ],
)
def test_where_paths_go_with_every_type(path, expected):
    assert route_of(path, ALL) == expected


def test_stream_writer_endpoints_go_elsewhere_when_no_writer_is_configured():
    generic = ALL - {name for name, t in WORKER_TYPES.items() if t.is_stream_writer}
    assert route_of("/_matrix/client/v3/keys/upload", generic) == "client_reader"
    assert route_of("/_matrix/client/v3/rooms/!a:x/typing/@u:x", generic) == "main"
    assert route_of("/_matrix/client/v3/sendToDevice/m.x/1", generic) == "main"
    assert not [w for w, _ in routes_for(generic) if WORKER_TYPES[w].is_stream_writer]


@pytest.mark.parametrize(
    ("value", "expected"), [(7, 7), ("50M", 52428800), ("1G", 1073741824), ("10K", 10240), ("99", 99)]
)
def test_size_bytes_reads_synapse_sizes(value, expected):
    assert size_bytes(value) == expected


WORKERS = st.sets(st.sampled_from(sorted(WORKER_TYPES)), min_size=1).map(
    lambda names: {n: ({"replicas": 2} if WORKER_TYPES[n].scaling == "replicas" else {}) for n in names}
)


def _blocks(text):
    upstreams = dict(re.findall(r"upstream (\S+) \{\n(.*?)\n\}", text, re.S))
    servers = {name: re.findall(r"server (\S+);", body) for name, body in upstreams.items()}
    passes = re.findall(r"proxy_pass http://(\S+);", text)
    return servers, passes


@settings(max_examples=100, deadline=None)
@given(WORKERS)
def test_the_router_names_only_workers_that_exist(workers):
    derived = derive_workers(workers, {"max_upload_size": "20M"}, REDIS, NETWORK)
    text = render_nginx_router(derived, "main.svc:8008", "8080")
    servers, passes = _blocks(text)
    assert servers.pop("synapse_main") == ["main.svc:8008"]
    for name, addresses in servers.items():
        (worker_type,) = [t for t in derived["types"] if upstream_name(t) == name]
        expected = [
            f"{derived['addresses'][i]['host']}:{derived['addresses'][i]['http']}"
            for i in derived["types"][worker_type]
        ]
        assert addresses == expected
    assert set(passes) <= {"synapse_main", *servers}
    assert passes[-1] == "synapse_main"  # location /
    assert "client_max_body_size 20971520;" in text
    # Every route of a configured type with a listener has its location, in table order.
    locations = re.findall(r'location ~ "(.*?)" \{', text)
    served = {t for t in derived["types"] if upstream_name(t) in servers}
    assert locations == [pattern for _, pattern in routes_for(served)]


def test_sync_waits_long_and_sticks_to_one_synchrotron():
    derived = derive_workers({"synchrotron": {"replicas": 2}}, {}, REDIS, NETWORK)
    text = render_nginx_router(derived, "main.svc:8008", "8080")
    assert "hash $http_authorization consistent;" in text
    sync = text.split('location ~ "^/_matrix/client/(r0|v3)/sync$" {')[1].split("}")[0]
    assert "proxy_read_timeout 180s;" in sync
    assert "proxy_pass http://synapse_synchrotron;" in sync
