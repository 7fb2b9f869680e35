"""Synapse with workers (issue 14, phase 1): real processes prove the derivation and the routes.

Redis, the main process and five workers (synchrotron, client_reader, federation_reader,
event_persister, media_repository), configured by synapse_workers over the homeserver.yaml
the roles rendered, behind nginx running the generated router. A matrix-nio client registers
(the shared-secret admin API, as the roles' registration Job does), logs in, creates a room,
sends, syncs, uploads and downloads through nginx, and a federation request follows. Every
process's metrics listener says where each request was served: Synapse counts requests per
servlet (synapse_http_server_requests_received) and persisted events per type
(synapse_storage_events_persisted_events_sep). Then one sample path per pattern of the
routing table goes straight to a worker serving that type's resource: Synapse 1.163.2 must
have a servlet for each.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import nio
import pytest

from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_worker_config import (
    MAIN,
    derive_workers,
)
from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_worker_routes import (
    ROUTES,
    render_nginx_router,
    route_of,
    routes_for,
)
from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_worker_types import WORKER_TYPES

from . import pods, servers, workers
from .conftest import _timings

WORKERS = {
    "synchrotron": {},
    "client_reader": {},
    "federation_reader": {},
    "event_persister": {},
    "media_repository": {},
}
REQUESTS = "synapse_http_server_requests_received_total"
PERSISTED = "synapse_storage_events_persisted_events_sep_total"


def test_the_router_for_every_type_passes_nginx_t(workdir, users):
    """Every pattern of the table, every upstream, as nginx itself reads them."""
    network = {"main_host": "main.svc", "instance_host": "{instance}.workers.svc"}
    workers_all = {
        "preset": "one-of-each",
        "synchrotron": {"replicas": 3},
        "receipts_writer": {"instances": 2},
    }
    derived = derive_workers(workers_all, {"max_upload_size": "100M"}, {"host": "redis.svc"}, network)
    directory = servers.make_dir(workdir / "router-check", users["nginx"])
    router = render_nginx_router(derived, "main.svc:8008", f"127.0.0.1:{servers.free_port()}")
    conf = workers.nginx_conf(router, directory, users["nginx"])
    # nginx -t resolves upstream host names: the cluster names become loopback here.
    text = conf.read_text()
    for address in {a["host"] for a in derived["addresses"].values()}:
        text = text.replace(f"{address}:", "127.0.0.1:")
    conf.write_text(text)
    result = servers.run(workers.nginx_argv(conf, "-t"), user=users["nginx"], timeout=30)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    assert text.count("location ~") == len(routes_for(derived["types"]))


@pytest.fixture(scope="module")
def deployment(artifacts, loopback, paths, postgres, workdir, users):
    started = time.monotonic()
    directory = servers.make_dir(workdir / "workers", mode=0o700)
    pods.materialise("synapse", artifacts, paths)  # signing key and secrets the config names
    workers.create_database(postgres, loopback.homeserver["database"]["args"]["user"])
    redis = workers.start_redis(directory / "redis")
    derived = workers.derive(WORKERS, loopback.homeserver, redis, servers.make_dir(directory / "media"))
    main_port = workers.client_port(derived["main"])
    main_config, main = workers.start_main(derived, directory)
    deployment = workers.Deployment(derived, main_config, {MAIN: main}, redis)
    try:
        workers.wait_redis(redis)
        seconds = main.wait_until(
            lambda: servers.http_ok(workers.health_url(derived, MAIN, main_port)), 120, "/health"
        )
        deployment.start_seconds[MAIN] = round(seconds, 2)
        deployment.processes.update(workers.start_workers(derived, main_config, directory))
        for instance, process in deployment.processes.items():
            url = workers.health_url(derived, instance, main_port)
            deployment.start_seconds[instance] = round(
                process.wait_until(lambda u=url: servers.http_ok(u), 120, "/health"), 2
            )
        deployment.router, deployment.router_url = workers.start_router(
            derived, main_port, workdir / "workers-router", users["nginx"]
        )
        _timings["workers_ready_seconds"] = round(time.monotonic() - started, 3)
        _timings["workers_start_to_health_seconds"] = deployment.start_seconds
        yield deployment
    finally:
        deployment.stop()


def run(coroutine):
    return asyncio.run(coroutine)


def snapshot(deployment) -> dict:
    return {name: workers.scrape(deployment.metrics_url(name)) for name in deployment.processes}


def rose(before: dict, after: dict, name: str, **labels) -> dict[str, float]:
    """{process: increase} of metric name (labels matching) where it increased."""
    grown = {}
    for process in after:
        delta = workers.total(after[process], name, **labels) - workers.total(before[process], name, **labels)
        if delta > 0:
            grown[process] = delta
    return grown


@pytest.fixture(scope="module")
def traffic(deployment, loopback):
    """One client's session through the router, with every process's metrics between steps."""
    url = deployment.router_url
    localpart = f"worker-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(18)
    body = f"routed through workers {secrets.token_hex(4)}"
    media = os.urandom(32 * 1024) + b"workers"
    steps = {}

    def step(name, before):
        after = snapshot(deployment)
        steps[name] = (before, after)
        return after

    state = snapshot(deployment)
    password_file = servers.write_file(deployment.main_config.parent / "alice-password", password, mode=0o600)
    registration = servers.run(
        [
            os.path.join(os.path.dirname(sys.executable), "register_new_matrix_user"),
            "--config",
            str(deployment.main_config),
            "--no-admin",
            "--user",
            localpart,
            "--password-file",
            str(password_file),
            url,
        ],
        env={**os.environ, "HOME": str(deployment.main_config.parent)},
        timeout=60,
    )
    assert registration.returncode == 0, registration.stdout + registration.stderr
    state = step("register", state)
    user_id = f"@{localpart}:{loopback.homeserver['server_name']}"

    async def session():
        nonlocal state
        client = nio.AsyncClient(url, user_id)
        try:
            login = await client.login(password, device_name="workers-suite")
            assert isinstance(login, nio.LoginResponse), login
            state = step("login", state)
            first = await client.sync(timeout=0)
            assert isinstance(first, nio.SyncResponse), first
            state = step("sync", state)
            room = await client.room_create(name="workers")
            assert isinstance(room, nio.RoomCreateResponse), room
            state = step("createRoom", state)
            sent = await client.room_send(room.room_id, "m.room.message", {"msgtype": "m.text", "body": body})
            assert isinstance(sent, nio.RoomSendResponse), sent
            state = step("send", state)
            # The synchrotron learns of the event from the persister over Redis replication.
            seen = []
            deadline = time.monotonic() + 30
            while not seen and time.monotonic() < deadline:
                later = await client.sync(timeout=5000, since=client.next_batch)
                assert isinstance(later, nio.SyncResponse), later
                joined = later.rooms.join.get(room.room_id)
                seen = [
                    e for e in (joined.timeline.events if joined else []) if getattr(e, "body", None) == body
                ]
            state = step("sync after send", state)
            uploaded, _ = await client.upload(
                lambda *_: media,
                content_type="application/octet-stream",
                filename="w.bin",
                filesize=len(media),
            )
            assert isinstance(uploaded, nio.UploadResponse), uploaded
            state = step("upload", state)
            downloaded = await client.download(mxc=uploaded.content_uri)
            assert isinstance(downloaded, nio.MemoryDownloadResponse), downloaded
            state = step("download", state)
            return seen, downloaded
        finally:
            await client.close()

    seen, downloaded = run(session())
    return {"steps": steps, "seen": seen, "downloaded": downloaded, "media": media}


def test_every_process_is_up_and_exposes_its_metrics(deployment):
    assert set(deployment.processes) == {
        MAIN,
        "synchrotron-0",
        "client-reader-0",
        "federation-reader-0",
        "event-persister-0",
        "media-repository-0",
    }
    for name in deployment.processes:
        samples = workers.scrape(deployment.metrics_url(name))
        assert any(sample == REQUESTS for sample, _ in samples) or name == "event-persister-0", name
        assert any(sample == "process_cpu_seconds_total" for sample, _ in samples), name


@pytest.mark.parametrize(
    ("step", "servlet", "where"),
    [
        ("register", "UserRegisterServlet", MAIN),
        ("login", "LoginRestServlet", "client-reader-0"),
        ("sync", "SyncRestServlet", "synchrotron-0"),
        ("sync after send", "SyncRestServlet", "synchrotron-0"),
        ("createRoom", "RoomCreateRestServlet", "client-reader-0"),
        ("send", "RoomSendEventRestServlet", MAIN),
        ("upload", "UploadServlet", "media-repository-0"),
        ("download", "DownloadResource", "media-repository-0"),
    ],
)
def test_each_request_lands_on_the_process_the_table_names(traffic, step, servlet, where):
    before, after = traffic["steps"][step]
    assert set(rose(before, after, REQUESTS, servlet=servlet)) == {where}


def test_the_message_is_persisted_by_the_event_persister_not_main(traffic):
    before, after = traffic["steps"]["send"]
    assert rose(before, after, PERSISTED, type="m.room.message") == {"event-persister-0": 1}


def test_the_synchrotron_sees_the_message_through_redis(traffic):
    assert len(traffic["seen"]) == 1


def test_media_round_trips_through_the_media_worker(traffic):
    assert traffic["downloaded"].body == traffic["media"]


def test_main_serves_no_client_request_of_the_routed_steps(traffic):
    """Login, sync, createRoom and media reach the main process only as replication calls
    from the workers (servlets such as RegisterDeviceReplicationServlet), never as the
    client's own request."""
    for step in ("login", "sync", "createRoom", "upload", "download"):
        before, after = traffic["steps"][step]
        grown = {
            dict(labels)["servlet"]
            for (name, labels), value in after[MAIN].items()
            if name == REQUESTS and value > before[MAIN].get((name, labels), 0)
        }
        assert all("Replication" in servlet for servlet in grown), (step, grown)


def test_a_federation_request_lands_on_the_federation_reader(deployment):
    before = snapshot(deployment)
    with urllib.request.urlopen(
        f"{deployment.router_url}/_matrix/federation/v1/version", timeout=10
    ) as response:
        assert json.load(response)["server"]["name"] == "Synapse"
    after = snapshot(deployment)
    assert set(rose(before, after, REQUESTS, servlet="FederationVersionServlet")) == {"federation-reader-0"}


# One real request path for every pattern of the table (ids need not exist: a servlet that
# answers 401, 400 or M_NOT_FOUND still serves the path).
R, E, U = "!r:example.test", "$e", "@u:example.test"
SAMPLES = {
    "typing_writer": [f"/_matrix/client/v3/rooms/{R}/typing/{U}"],
    "to_device_writer": ["/_matrix/client/v3/sendToDevice/m.test/t1"],
    "account_data_writer": [
        f"/_matrix/client/v3/user/{U}/rooms/{R}/tags",
        f"/_matrix/client/v3/user/{U}/account_data/m.test",
    ],
    "receipts_writer": [
        f"/_matrix/client/v3/rooms/{R}/receipt/m.read/{E}",
        f"/_matrix/client/v3/rooms/{R}/read_markers",
    ],
    "presence_writer": [f"/_matrix/client/v3/presence/{U}/status"],
    "push_rules_writer": ["/_matrix/client/v3/pushrules/"],
    "device_lists_writer": [
        "/_matrix/client/v3/delete_devices",
        "/_matrix/client/v3/devices",
        "/_matrix/client/v3/keys/upload",
        "/_matrix/client/v3/keys/device_signing/upload",
        "/_matrix/client/v3/keys/signatures/upload",
    ],
    "user_dir": ["/_matrix/client/v3/user_directory/search"],
    "media_repository": [
        "/_matrix/media/v3/config",
        "/_matrix/client/v1/media/config",
        "/_matrix/federation/v1/media/download/abc",
        "/_synapse/admin/v1/purge_media_cache",
        f"/_synapse/admin/v1/room/{R}/media",
        f"/_synapse/admin/v1/user/{U}/media/quarantine",
        "/_synapse/admin/v1/media/example.test/abc",
        f"/_synapse/admin/v1/quarantine_media/{R}",
        f"/_synapse/admin/v1/users/{U}/media",
    ],
    "synchrotron": [
        "/_matrix/client/v3/sync",
        "/_matrix/client/v3/events",
        "/_matrix/client/v3/initialSync",
        f"/_matrix/client/v3/rooms/{R}/initialSync",
    ],
    "event_creator": [
        f"/_matrix/client/v3/rooms/{R}/redact/{E}/t1",
        f"/_matrix/client/v3/rooms/{R}/send/m.room.message/t1",
        f"/_matrix/client/v3/rooms/{R}/state/m.room.name/",
        f"/_matrix/client/v3/rooms/{R}/join",
        f"/_matrix/client/v3/join/{R}",
        f"/_matrix/client/v3/knock/{R}",
        f"/_matrix/client/v3/profile/{U}/displayname",
    ],
    "federation_reader": [
        "/_matrix/federation/v1/version",
        f"/_matrix/federation/v1/event/{E}",
        f"/_matrix/federation/v1/state/{R}",
        f"/_matrix/federation/v1/state_ids/{R}",
        f"/_matrix/federation/v1/backfill/{R}",
        f"/_matrix/federation/v1/get_missing_events/{R}",
        "/_matrix/federation/v1/publicRooms",
        "/_matrix/federation/v1/query/profile",
        f"/_matrix/federation/v1/make_join/{R}/{U}",
        f"/_matrix/federation/v1/make_leave/{R}/{U}",
        f"/_matrix/federation/v2/send_join/{R}/{E}",
        f"/_matrix/federation/v2/send_leave/{R}/{E}",
        f"/_matrix/federation/v1/make_knock/{R}/{U}",
        f"/_matrix/federation/v1/send_knock/{R}/{E}",
        f"/_matrix/federation/v2/invite/{R}/{E}",
        f"/_matrix/federation/v1/event_auth/{R}/{E}",
        f"/_matrix/federation/v1/timestamp_to_event/{R}",
        f"/_matrix/federation/v1/exchange_third_party_invite/{R}",
        f"/_matrix/federation/v1/user/devices/{U}",
        "/_matrix/key/v2/query",
        f"/_matrix/federation/v1/hierarchy/{R}",
        "/_matrix/federation/v1/send/t1",
    ],
    "client_reader": [
        "/_matrix/client/v3/createRoom",
        "/_matrix/client/v3/publicRooms",
        f"/_matrix/client/v3/rooms/{R}/joined_members",
        f"/_matrix/client/v3/rooms/{R}/context/{E}",
        f"/_matrix/client/v3/rooms/{R}/members",
        f"/_matrix/client/v3/rooms/{R}/state",
        f"/_matrix/client/v1/rooms/{R}/hierarchy",
        f"/_matrix/client/v1/rooms/{R}/relations/{E}",
        f"/_matrix/client/v1/rooms/{R}/threads",
        f"/_matrix/client/unstable/im.nheko.summary/summary/{R}",
        "/_matrix/client/v3/account/3pid",
        "/_matrix/client/v3/account/whoami",
        "/_matrix/client/v3/account/deactivate",
        "/_matrix/client/v3/delete_devices",
        "/_matrix/client/v3/devices",
        "/_matrix/client/versions",
        "/_matrix/client/v3/voip/turnServer",
        f"/_matrix/client/v3/rooms/{R}/event/{E}",
        "/_matrix/client/v3/joined_rooms",
        f"/_matrix/client/v1/rooms/{R}/timestamp_to_event",
        f"/_matrix/client/v3/rooms/{R}/aliases",
        "/_matrix/client/v3/search",
        f"/_matrix/client/v3/user/{U}/filter",
        "/_matrix/client/v3/directory/room/%23a:example.test",
        "/_matrix/client/v3/capabilities",
        "/_matrix/client/v3/notifications",
        f"/_synapse/admin/v1/rooms/{R}",
        "/_matrix/client/v3/keys/query",
        "/_matrix/client/v3/keys/changes",
        "/_matrix/client/v3/keys/claim",
        "/_matrix/client/v3/room_keys/version",
        "/_matrix/client/v3/keys/upload",
        "/_matrix/client/v3/keys/device_signing/upload",
        "/_matrix/client/v3/keys/signatures/upload",
        "/_matrix/client/v3/login",
        "/_matrix/client/v3/register",
        "/_matrix/client/v3/register/available",
        "/_matrix/client/v1/register/m.login.registration_token/validity",
        "/_matrix/client/v3/password_policy",
    ],
}


def test_the_samples_cover_every_pattern_once_and_route_as_the_table_says():
    for worker_type, _, patterns in ROUTES:
        samples = SAMPLES[worker_type]
        assert len(samples) == len(patterns), worker_type
        for pattern, sample in zip(patterns, samples, strict=True):
            assert re.search(pattern, urllib.parse.unquote(sample)), (pattern, sample)
            assert route_of(sample, {worker_type}) == worker_type


def served(url: str) -> tuple[bool, int, str]:
    """Whether Synapse has a servlet for url's path: anything but 404 M_UNRECOGNIZED (no
    servlet matched) or a non-JSON 404 (no resource mounted at that prefix)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return True, response.status, ""
    except urllib.error.HTTPError as err:
        body = err.read().decode(errors="replace")
        try:
            errcode = json.loads(body).get("errcode", "")
        except ValueError:
            return err.code != 404, err.code, body[:80]
        return not (err.code == 404 and errcode == "M_UNRECOGNIZED"), err.code, errcode


def test_every_routed_path_is_served_by_a_worker_of_synapse_1_163_2(deployment):
    """The table against the servlets the pinned Synapse registers on a worker: each sample is
    sent straight to a worker with the resource its type serves (client, federation, media)."""
    by_resource = {
        "client": "client-reader-0",
        "federation": "federation-reader-0",
        "media": "media-repository-0",
    }
    unserved = []
    for worker_type, samples in SAMPLES.items():
        (resource,) = [r for r in WORKER_TYPES[worker_type].resources if r in by_resource]
        port = deployment.derived["addresses"][by_resource[resource]]["http"]
        for sample in samples:
            ok, status, detail = served(f"http://127.0.0.1:{port}{sample}")
            if not ok:
                unserved.append((worker_type, sample, status, detail))
    assert not unserved
    # The check can say no: a path no servlet has, and /_synapse/media/, which newer
    # docs/workers.md list but 1.163.2 does not serve (left out of the table for that).
    client = deployment.derived["addresses"]["client-reader-0"]["http"]
    media = deployment.derived["addresses"]["media-repository-0"]["http"]
    assert not served(f"http://127.0.0.1:{client}/_matrix/client/v3/no_such_endpoint")[0]
    assert not served(f"http://127.0.0.1:{media}/_synapse/media/thumbnail/abc")[0]
