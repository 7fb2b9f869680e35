"""derive_workers: the shared options and per-worker files Synapse needs, and their laws."""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.matrixk8s.synapse.plugins.module_utils.homeserver_config import HomeserverConfigError
from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_worker_config import (
    DEPRECATED_DUTY_OPTIONS,
    MAIN,
    derive_workers,
)
from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_worker_types import (
    MEDIA_REPOSITORY,
    SINGLE_NAME_DUTIES,
    WORKER_TYPES,
)
from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_workers import WorkersError

MAIN_CONFIG = {
    "server_name": "example.com",
    "max_upload_size": "100M",
    "listeners": [{"port": 8008, "type": "http", "resources": [{"names": ["client", "federation"]}]}],
}
REDIS = {"host": "redis.matrix.svc", "password_path": "/secrets/redis/password"}
NETWORK = {
    "main_host": "synapse-replication.matrix.svc",
    "instance_host": "{instance}.synapse-workers.matrix.svc",
}
# Streams Synapse 1.163.2 lets only one instance write (synapse/config/workers.py).
SINGLE_WRITER_STREAMS = {"typing", "to_device", "account_data", "presence", "push_rules"}


def derive(workers, main=None, **kwargs):
    return derive_workers(workers, MAIN_CONFIG if main is None else main, REDIS, NETWORK, **kwargs)


def _settings(worker_type):
    count = st.integers(1, 4)
    if worker_type.scaling == "replicas":
        return st.one_of(st.none(), st.builds(lambda n: {"replicas": n}, count))
    if worker_type.scaling == "instances":
        return st.one_of(st.none(), st.builds(lambda n: {"instances": n}, count))
    return st.one_of(st.none(), st.just({}), st.just({"replicas": 1}))


WORKERS = st.sets(st.sampled_from(sorted(WORKER_TYPES)), min_size=1).flatmap(
    lambda names: st.fixed_dictionaries({name: _settings(WORKER_TYPES[name]) for name in names})
)


def listeners_of(derived, instance):
    if instance == MAIN:
        return derived["main"]["listeners"]
    return derived["workers"][instance]["worker_listeners"]


@settings(max_examples=150, deadline=None)
@given(WORKERS)
def test_laws_of_the_derived_configuration(workers):
    derived = derive(workers)
    main = derived["main"]
    instances = [i for names in derived["types"].values() for i in names]
    assert len(instances) == len(set(instances)) == len(derived["workers"])

    # Every stream writer is in instance_map, and so is main (its replication listener).
    for stream, writers in main.get("stream_writers", {}).items():
        assert writers, stream
        assert all(w in main["instance_map"] for w in writers), stream
        if stream in SINGLE_WRITER_STREAMS:
            assert len(writers) == 1, stream
    assert MAIN in main["instance_map"]

    # Every instance_map entry points at a replication listener of that process.
    for name, location in main["instance_map"].items():
        ports = [
            listener["port"]
            for listener in listeners_of(derived, name)
            if listener["type"] == "http" and any("replication" in r["names"] for r in listener["resources"])
        ]
        assert ports == [location["port"]], name

    # Every process, main included, has exactly one metrics listener.
    for name in [MAIN, *instances]:
        assert [listener["type"] for listener in listeners_of(derived, name)].count("metrics") == 1, name
    assert main["enable_metrics"] is True

    # Duties name existing instances of the right type; single-name duties one name.
    for type_name, names in derived["types"].items():
        duty = WORKER_TYPES[type_name].duty
        if duty in SINGLE_NAME_DUTIES:
            assert main[duty] in names
        elif duty:
            assert main[duty] == names

    assert not set(DEPRECATED_DUTY_OPTIONS) & set(main)
    assert main["redis"]["enabled"] is True
    # The main process's own listeners are kept, first and unchanged.
    assert main["listeners"][0] == MAIN_CONFIG["listeners"][0]
    assert (main.get("enable_media_repo") is False) == ("media_repository" in derived["types"])


@settings(max_examples=50, deadline=None)
@given(WORKERS)
def test_derivation_leaves_its_inputs_alone_and_is_repeatable(workers):
    before = copy.deepcopy((workers, MAIN_CONFIG))
    assert derive(workers) == derive(workers)
    assert (workers, MAIN_CONFIG) == before


def test_the_issue_example_in_full():
    derived = derive(
        {
            "synchrotron": {"replicas": 2},
            "federation_sender": {"replicas": 1},
            "event_persister": {"instances": 2},
            "media_repository": {},
        }
    )
    main = derived["main"]
    assert main["instance_map"] == {
        "main": {"host": "synapse-replication.matrix.svc", "port": 9093},
        "event-persister-0": {"host": "event-persister-0.synapse-workers.matrix.svc", "port": 9093},
        "event-persister-1": {"host": "event-persister-1.synapse-workers.matrix.svc", "port": 9093},
    }
    assert main["stream_writers"] == {"events": ["event-persister-0", "event-persister-1"]}
    assert main["federation_sender_instances"] == ["federation-sender-0"]
    assert main["media_instance_running_background_jobs"] == "media-repository-0"
    assert main["enable_media_repo"] is False
    assert main["redis"] == {
        "enabled": True,
        "host": "redis.matrix.svc",
        "port": 6379,
        "password_path": "/secrets/redis/password",
    }
    assert derived["workers"]["media-repository-0"]["worker_app"] == MEDIA_REPOSITORY
    assert derived["workers"]["synchrotron-1"] == {
        "worker_app": "synapse.app.generic_worker",
        "worker_name": "synchrotron-1",
        "worker_listeners": [
            {
                "port": 8008,
                "type": "http",
                "tls": False,
                "x_forwarded": True,
                "bind_addresses": ["0.0.0.0"],
                "resources": [{"names": ["client"], "compress": False}],
            },
            {"port": 9000, "type": "metrics", "bind_addresses": ["0.0.0.0"]},
        ],
    }
    # A process without endpoints still answers /health (the kubelet's probes).
    sender = derived["workers"]["federation-sender-0"]["worker_listeners"][0]
    assert sender["resources"][0]["names"] == ["health"]
    assert derived["addresses"]["federation-sender-0"]["http"] is None


def test_no_workers_leaves_the_main_config_as_it_is():
    assert derive({}) == {"main": MAIN_CONFIG, "workers": {}, "addresses": {}, "types": {}}


def test_per_instance_ports_for_processes_sharing_a_host():
    network = {
        **NETWORK,
        "instance_host": "127.0.0.1",
        "main_ports": {"replication": 1, "metrics": 2},
        "instance_ports": {"event-persister-0": {"http": 3, "replication": 4, "metrics": 5}},
    }
    derived = derive_workers({"event_persister": {}}, MAIN_CONFIG, REDIS, network)
    assert derived["addresses"]["event-persister-0"] == {
        "host": "127.0.0.1",
        "http": None,
        "health": 3,
        "replication": 4,
        "metrics": 5,
    }
    assert derived["main"]["instance_map"]["event-persister-0"] == {"host": "127.0.0.1", "port": 4}


def test_a_replication_secret_path_is_shared():
    derived = derive_workers(
        {"pusher": {}}, MAIN_CONFIG, REDIS, {**NETWORK, "replication_secret_path": "/s/r"}
    )
    assert derived["main"]["worker_replication_secret_path"] == "/s/r"


def test_the_users_config_is_merged_over_each_worker_of_its_type():
    derived = derive(
        {"synchrotron": {"replicas": 2, "config": "caches:\n  global_factor: 2\n"}, "pusher": {}}
    )
    for name in ("synchrotron-0", "synchrotron-1"):
        assert derived["workers"][name]["caches"] == {"global_factor": 2}
    assert "caches" not in derived["workers"]["pusher-0"]


@pytest.mark.parametrize("key", ["worker_name", "worker_app", "worker_listeners"])
def test_the_users_config_may_not_rename_or_move_a_worker(key):
    with pytest.raises(HomeserverConfigError) as err:
        derive({"synchrotron": {"config": {key: "x"}}})
    assert str(err.value).startswith(
        f"synapse_workers.synchrotron.config (override 1 (argument 2)) sets '{key}'"
    )


def test_the_users_config_is_checked_strictly_like_synapse_homeserver():
    with pytest.raises(
        HomeserverConfigError, match=r"synapse_workers\.pusher\.config .* sets 'cachez'.*did you mean caches"
    ):
        derive({"pusher": {"config": {"cachez": {}}}})


@pytest.mark.parametrize(
    "key", ["stream_writers", "instance_map", "redis", "send_federation", "start_pushers"]
)
def test_a_main_config_setting_what_is_derived_is_refused(key):
    with pytest.raises(WorkersError) as err:
        derive({"synchrotron": {}}, main={**MAIN_CONFIG, key: {}})
    assert str(err.value) == (
        f"synapse_homeserver sets '{key}', which the collection derives from synapse_workers; "
        "describe the workers in synapse_workers instead"
    )


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ({"main_host": "m"}, r"network\.instance_host must be a non-empty string"),
        (
            {"main_host": "m", "instance_host": "workers.svc"},
            r"network: pusher-1 \(health\) and pusher-0 would both listen on workers.svc:8008",
        ),
        ({**NETWORK, "port": 1}, r"network has unknown keys: port"),
    ],
)
def test_bad_network(network, message):
    with pytest.raises(WorkersError, match=message):
        derive_workers({"pusher": {"replicas": 2}}, MAIN_CONFIG, REDIS, network)


def test_workers_without_redis_are_refused_by_the_derivation_too():
    with pytest.raises(WorkersError, match="workers need Redis"):
        derive_workers({"pusher": {}}, MAIN_CONFIG, None, NETWORK)
