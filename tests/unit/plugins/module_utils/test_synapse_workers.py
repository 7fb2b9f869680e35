"""synapse_workers in the user's terms: types, scaling, presets, Redis, and every refusal."""

import pytest

from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_worker_types import (
    PRESETS,
    WORKER_TYPES,
)
from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_workers import (
    MAX_COUNT,
    WorkersError,
    checked_redis,
    instance_name,
    parse_workers,
)


def counts(value):
    return {name: spec.count for name, spec in parse_workers(value).items()}


@pytest.mark.parametrize("value", [None, "", {}])
def test_nothing_is_the_monolith(value):
    assert parse_workers(value) == {}


def test_the_issue_example():
    value = {
        "synchrotron": {"replicas": 2},
        "federation_sender": {"replicas": 1},
        "event_persister": {"instances": 2},
        "media_repository": None,
    }
    specs = parse_workers(value)
    assert counts(value) == {
        "synchrotron": 2,
        "media_repository": 1,
        "federation_sender": 1,
        "event_persister": 2,
    }
    assert specs["synchrotron"].instances == ["synchrotron-0", "synchrotron-1"]
    assert specs["event_persister"].instances == ["event-persister-0", "event-persister-1"]


def test_result_follows_the_catalogue_order_whatever_the_input_order():
    assert list(parse_workers({"event_persister": {}, "synchrotron": {}})) == [
        "synchrotron",
        "event_persister",
    ]


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_parses_by_name_and_as_a_key(preset):
    by_name = counts(preset)
    assert by_name == counts({"preset": preset})
    assert set(by_name) == set(PRESETS[preset])


def test_one_of_each_is_every_type_once():
    assert counts("one-of-each") == {name: 1 for name in WORKER_TYPES}


def test_federation_helper_is_federation_both_ways():
    assert counts("federation-helper") == {"federation_reader": 1, "federation_sender": 1}


def test_a_preset_entry_is_replaced_by_the_users_own():
    assert counts(
        {"preset": "federation-helper", "federation_sender": {"replicas": 3}, "synchrotron": {}}
    ) == {
        "synchrotron": 1,
        "federation_reader": 1,
        "federation_sender": 3,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("one-of-eche", ["synapse_workers is 'one-of-eche'", "did you mean one-of-each?", "valid presets:"]),
        ({"preset": "federation"}, ["synapse_workers.preset is 'federation'", "federation-helper"]),
        (
            {"preset": 3},
            ["synapse_workers.preset is 3", "valid presets: common, federation-helper, one-of-each"],
        ),
    ],
)
def test_a_misspelt_preset_is_refused_with_the_valid_ones(value, expected):
    with pytest.raises(WorkersError) as err:
        parse_workers(value)
    for text in expected:
        assert text in str(err.value)


def test_an_unknown_type_is_refused_with_the_valid_types():
    with pytest.raises(WorkersError) as err:
        parse_workers({"synchrotrons": {}})
    message = str(err.value)
    assert message.startswith("synapse_workers.synchrotrons: 'synchrotrons' is not a worker type")
    assert "did you mean synchrotron?" in message
    assert "valid types: " + ", ".join(sorted(WORKER_TYPES)) in message


def test_the_variable_name_is_the_callers():
    with pytest.raises(WorkersError, match=r"^my_workers\.nope:"):
        parse_workers({"nope": {}}, name="my_workers")


def test_a_stream_writer_with_replicas_is_refused_and_told_to_use_instances():
    with pytest.raises(WorkersError) as err:
        parse_workers({"event_persister": {"replicas": 2}})
    message = str(err.value)
    assert message.startswith("synapse_workers.event_persister.replicas is 2")
    assert "stream_writers.events" in message
    assert "synapse_workers.event_persister.instances: 2" in message


def test_a_stream_writer_with_one_replica_is_fine():
    assert counts({"receipts_writer": {"replicas": 1, "instances": 2}}) == {"receipts_writer": 2}


def test_a_replicated_type_refuses_instances():
    with pytest.raises(
        WorkersError, match=r"synchrotron\.instances: synchrotron is not a stream writer.*replicas: 3"
    ):
        parse_workers({"synchrotron": {"instances": 3}})


@pytest.mark.parametrize(
    ("type_name", "key", "reason"),
    [
        ("typing_writer", "instances", "the one typing stream writer"),
        ("presence_writer", "replicas", "the one presence stream writer"),
        ("background_worker", "replicas", "named alone in run_background_tasks_on"),
        ("user_dir", "instances", "named alone in update_user_directory_from_worker"),
    ],
)
def test_singletons_refuse_more_than_one(type_name, key, reason):
    with pytest.raises(WorkersError) as err:
        parse_workers({type_name: {key: 2}})
    assert str(err.value).startswith(f"synapse_workers.{type_name}.{key} is 2")
    assert reason in str(err.value)


@pytest.mark.parametrize("bad", [0, -1, MAX_COUNT + 1, True, "2", 1.5, None])
def test_counts_are_whole_numbers_in_range(bad):
    with pytest.raises(WorkersError, match=r"^synapse_workers\.synchrotron\.replicas must be"):
        parse_workers({"synchrotron": {"replicas": bad}})


def test_an_unknown_setting_is_refused_with_the_valid_ones():
    with pytest.raises(WorkersError) as err:
        parse_workers({"synchrotron": {"replica": 2}})
    assert str(err.value) == (
        "synapse_workers.synchrotron.replica is not a worker setting (did you mean replicas?); "
        "valid settings: replicas, instances, config"
    )


@pytest.mark.parametrize("value", [["synchrotron"], 3, True])
def test_the_whole_value_must_be_a_mapping_or_a_preset(value):
    with pytest.raises(
        WorkersError, match=r"^synapse_workers must be a mapping of worker types \(or a preset name"
    ):
        parse_workers(value)


def test_a_type_must_hold_a_mapping():
    with pytest.raises(WorkersError, match=r"^synapse_workers\.pusher must be a mapping"):
        parse_workers({"pusher": 2})


def test_instance_names_are_dns_labels_for_every_type():
    for type_name in WORKER_TYPES:
        name = instance_name(type_name, 63)
        assert "_" not in name
        assert len(name) <= 63
        assert name.endswith("-63")


# --- Redis -------------------------------------------------------------------------------

WORKERS = parse_workers({"synchrotron": {}})


def test_no_workers_needs_no_redis():
    assert checked_redis(None, {}) == {}


@pytest.mark.parametrize("redis", [None, {}])
def test_workers_without_redis_are_refused(redis):
    with pytest.raises(WorkersError) as err:
        checked_redis(redis, WORKERS)
    assert str(err.value).startswith("synapse_workers asks for synchrotron, and workers need Redis")
    assert "set synapse_redis with host" in str(err.value)


def test_redis_section():
    assert checked_redis(
        {"host": "redis.ns.svc", "password_path": "/secrets/redis/password", "dbid": 2}, WORKERS
    ) == {
        "enabled": True,
        "host": "redis.ns.svc",
        "port": 6379,
        "password_path": "/secrets/redis/password",
        "dbid": 2,
    }


@pytest.mark.parametrize(
    ("redis", "message"),
    [
        ({"host": ""}, r"^synapse_redis\.host must be a host name"),
        ({"host": "a b"}, r"^synapse_redis\.host must be a host name"),
        ({"host": "r", "port": 0}, r"^synapse_redis\.port must be a TCP port"),
        ({"host": "r", "port": "6379"}, r"^synapse_redis\.port must be a TCP port"),
        ({"host": "r", "dbid": -1}, r"^synapse_redis\.dbid must be a Redis database number"),
        (
            {"host": "r", "password": "x"},
            r"^synapse_redis\.password is not a Redis setting \(did you mean password_path\?\)",
        ),
        ("redis:6379", r"^synapse_redis must be a mapping"),
    ],
)
def test_bad_redis_settings(redis, message):
    with pytest.raises(WorkersError, match=message):
        checked_redis(redis, WORKERS)


def test_a_password_given_as_password_path_is_never_quoted():
    with pytest.raises(WorkersError) as err:
        checked_redis({"host": "r", "password_path": "hunter2-secret"}, WORKERS)
    assert "hunter2" not in str(err.value)
    assert "absolute path" in str(err.value)
