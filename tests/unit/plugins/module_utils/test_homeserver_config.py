"""The rules of homeserver_merge, one test per rule, each error message included."""

import copy

import pytest
import yaml

from ansible_collections.matrixk8s.synapse.plugins.module_utils.homeserver_config import (
    HomeserverConfigError,
    homeserver_merge,
)

BASE = {
    "server_name": "example.com",
    "listeners": [{"port": 8008, "type": "http"}],
    "database": {"name": "psycopg2", "args": {"user": "synapse", "cp_max": 10}},
    "email": {"smtp_host": "localhost", "smtp_port": 25},
}


def test_mappings_merge_recursively():
    result = homeserver_merge(BASE, {"email": {"smtp_port": 587, "notif_from": "x <noreply@example.com>"}})
    assert result["email"] == {
        "smtp_host": "localhost",
        "smtp_port": 587,
        "notif_from": "x <noreply@example.com>",
    }
    assert result["database"] == BASE["database"]


def test_scalar_is_replaced_by_the_later_value():
    assert homeserver_merge({"max_upload_size": "50M"}, {"max_upload_size": "100M"}) == {
        "max_upload_size": "100M"
    }


@pytest.mark.parametrize(
    ("before", "after"),
    [({"a": 1}, "text"), ("text", {"a": 1}), ([1, 2], {"a": 1}), ({"a": 1}, [1]), (None, {"a": 1})],
)
def test_different_types_later_wins(before, after):
    # The merge rule alone: strict mode would refuse most of these types for retention.
    assert homeserver_merge({"retention": before}, {"retention": after}, strict=False) == {"retention": after}


def test_lists_are_replaced_by_default():
    result = homeserver_merge({"auto_join_rooms": ["#a:x"]}, {"auto_join_rooms": ["#b:x"]})
    assert result == {"auto_join_rooms": ["#b:x"]}


def test_lists_append_when_asked():
    result = homeserver_merge(
        {"auto_join_rooms": ["#a:x"]}, {"auto_join_rooms": ["#b:x"]}, list_merge="append"
    )
    assert result == {"auto_join_rooms": ["#a:x", "#b:x"]}


def test_unknown_list_merge_mode_is_an_error():
    with pytest.raises(HomeserverConfigError, match="list_merge must be one of replace, append, got 'merge'"):
        homeserver_merge({}, {}, list_merge="merge")


def test_several_overrides_apply_in_order():
    result = homeserver_merge(
        {"enable_registration": False}, {"enable_registration": True}, {"enable_registration": False}
    )
    assert result == {"enable_registration": False}


def test_yaml_string_override_is_parsed():
    block = "enable_registration: true\nemail:\n  smtp_port: 465\n"
    result = homeserver_merge(BASE, block)
    assert result["enable_registration"] is True
    assert result["email"] == {"smtp_host": "localhost", "smtp_port": 465}


def test_yaml_string_base_is_parsed():
    assert homeserver_merge("server_name: example.org\n", {}) == {"server_name": "example.org"}


@pytest.mark.parametrize("empty", [None, "", "# everything commented out\n"])
def test_empty_override_adds_nothing(empty):
    assert homeserver_merge(BASE, empty) == BASE


@pytest.mark.parametrize(("override", "got"), [([1, 2], "list"), (42, "int"), (True, "bool"), (3.5, "float")])
def test_override_of_wrong_type_names_argument_and_type(override, got):
    with pytest.raises(HomeserverConfigError) as error:
        homeserver_merge(BASE, {}, override)
    assert str(error.value) == (
        f"override 2 (argument 3) must be a mapping or a YAML string holding a mapping, got {got}"
    )


def test_base_of_wrong_type_is_named():
    with pytest.raises(HomeserverConfigError, match=r"^the base \(argument 1\) must be a mapping"):
        homeserver_merge(["server_name"], {})


def test_yaml_string_that_is_not_a_mapping_is_an_error():
    with pytest.raises(HomeserverConfigError) as error:
        homeserver_merge(BASE, "- enable_registration\n")
    assert str(error.value) == (
        "override 1 (argument 2) must hold a YAML mapping (homeserver.yaml options), but its YAML is a list"
    )


def test_invalid_yaml_string_is_an_error_with_the_parser_reason_but_not_its_text():
    with pytest.raises(HomeserverConfigError) as error:
        homeserver_merge(BASE, "email:\n  smtp_pass: [hunter2\n")
    assert str(error.value) == (
        "override 1 (argument 2) is a string but not valid YAML: "
        "expected ',' or ']', but got '<stream end>' at line 3, column 1"
    )
    assert "hunter2" not in str(error.value)


def test_names_label_the_overrides_in_errors():
    with pytest.raises(
        HomeserverConfigError, match=r"^synapse_homeserver \(override 1 \(argument 2\)\) must be"
    ):
        homeserver_merge(BASE, [1], names=["synapse_homeserver"])


@pytest.mark.parametrize(
    ("override", "offending"),
    [
        ({"server_name": "evil.example"}, "server_name"),
        ({"database": {"args": {"password": "x"}}}, "database"),
        ({"listeners": []}, "listeners"),
    ],
)
def test_protected_paths_cannot_be_set(override, offending):
    with pytest.raises(HomeserverConfigError) as error:
        homeserver_merge(BASE, override, protected=["server_name", "database", "listeners"])
    assert str(error.value) == (
        f"override 1 (argument 2) sets '{offending}', which the collection manages "
        f"('{offending}'): it is set by the collection's roles"
    )


def test_protected_error_names_the_variable_that_sets_the_key():
    with pytest.raises(HomeserverConfigError) as error:
        homeserver_merge(
            BASE,
            {"database": {"args": {"password": "x"}}},
            protected={"database.args.password": "postgres_password_secret_name"},
            names=["synapse_homeserver"],
        )
    assert str(error.value) == (
        "synapse_homeserver (override 1 (argument 2)) sets 'database.args.password', which the "
        "collection manages ('database.args.password'): set postgres_password_secret_name instead"
    )


def test_protected_nested_path_allows_its_siblings():
    result = homeserver_merge(
        BASE, {"database": {"args": {"cp_max": 20}}}, protected=["database.args.password"]
    )
    assert result["database"]["args"] == {"user": "synapse", "cp_max": 20}


def test_replacing_the_parent_of_a_protected_path_with_a_scalar_is_refused():
    with pytest.raises(
        HomeserverConfigError,
        match=r"sets 'database', which the collection manages \('database.args.password'\)",
    ):
        homeserver_merge(BASE, {"database": None}, protected=["database.args.password"])


def test_protected_applies_to_yaml_string_overrides():
    with pytest.raises(HomeserverConfigError, match="sets 'signing_key_path'"):
        homeserver_merge(BASE, "signing_key_path: /tmp/k\n", protected=["signing_key_path"])


def test_protected_of_wrong_type_is_an_error():
    with pytest.raises(
        HomeserverConfigError,
        match="protected must be a list of dotted key paths or a mapping of them, got a string",
    ):
        homeserver_merge(BASE, {}, protected="server_name")


def test_strict_rejects_an_unknown_option_and_suggests_the_closest():
    with pytest.raises(HomeserverConfigError) as error:
        homeserver_merge(BASE, {"enable_registraton": True})
    assert str(error.value) == (
        "override 1 (argument 2) sets 'enable_registraton', which is not a Synapse v1.157 "
        "option (did you mean enable_registration?). For a module's or an experimental "
        "option, pass strict=false."
    )


def test_strict_without_a_close_match_gives_no_suggestion():
    with pytest.raises(
        HomeserverConfigError, match=r"sets 'zzzzqqqq', which is not a Synapse v1\.157 option\. For"
    ):
        homeserver_merge(BASE, {"zzzzqqqq": 1})


def test_strict_false_lets_unknown_options_through():
    assert homeserver_merge(BASE, {"my_module_option": {"a": 1}}, strict=False)["my_module_option"] == {
        "a": 1
    }


# Issue 12, finding 2: nested typos passed strict mode, and Synapse crash-looped on them.
@pytest.mark.parametrize(
    ("override", "path", "meant"),
    [
        ({"email": {"smtp_hots": "x"}}, "email.smtp_hots", "email.smtp_host"),
        (
            {"retention": {"default_policy": {"max_lifetim": "1d"}}},
            "retention.default_policy.max_lifetim",
            "retention.default_policy.max_lifetime",
        ),
        ({"rc_login": {"adress": {"per_second": 1}}}, "rc_login.adress", "rc_login.address"),
        (
            {"retention": {"purge_jobs": [{"interval": "1d"}, {"intervall": "1d"}]}},
            "retention.purge_jobs[1].intervall",
            "retention.purge_jobs[1].interval",
        ),
        ({"ui_auth": {"sesion_timeout": "15m"}}, "ui_auth.sesion_timeout", "ui_auth.session_timeout"),
    ],
)
def test_strict_rejects_an_unknown_nested_option_with_its_full_path(override, path, meant):
    with pytest.raises(HomeserverConfigError) as error:
        homeserver_merge(BASE, override, names=["synapse_homeserver"])
    assert str(error.value).startswith(f"synapse_homeserver (override 1 (argument 2)) sets '{path}', which")
    assert f"(did you mean {meant}?)" in str(error.value)


@pytest.mark.parametrize(
    ("override", "path", "got", "expected"),
    [
        ({"max_upload_size": [1]}, "max_upload_size", "a list", "an integer or a string"),
        ({"enable_registration": "yes"}, "enable_registration", "a string", "true or false"),
        ({"email": "smtp.example.com"}, "email", "a string", "a mapping"),
        ({"email": {"enable_notifs": 1}}, "email.enable_notifs", "an integer", "true or false"),
        ({"rc_message": {"per_second": "fast"}}, "rc_message.per_second", "a string", "a number"),
        ({"auto_join_rooms": ["#a:x", 3]}, "auto_join_rooms[1]", "an integer", "a string"),
    ],
)
def test_strict_rejects_a_value_of_the_wrong_type_naming_the_expected_one(override, path, got, expected):
    with pytest.raises(HomeserverConfigError) as error:
        homeserver_merge(BASE, override, names=["synapse_homeserver"])
    assert str(error.value) == (
        f"synapse_homeserver (override 1 (argument 2)) sets '{path}' to {got}, "
        f"but Synapse v1.157 expects {expected} there"
    )


def test_a_type_error_does_not_quote_the_value():
    with pytest.raises(HomeserverConfigError) as error:
        homeserver_merge(BASE, {"email": {"smtp_pass": ["hunter2-secret"]}})
    assert "hunter2" not in str(error.value)
    assert "'email.smtp_pass' to a list" in str(error.value)


@pytest.mark.parametrize(
    "override",
    [
        {"email": {"smtp_host": "mail", "smtp_port": 587, "notif_from": "x <n@example.com>"}},  # int port
        {"email": {"smtp_port": "587"}},
        {"email": None},  # a null option is unset for Synapse
        {"max_upload_size": 104857600},
        {"rc_message": {"per_second": 1, "burst_count": 0.5}},  # an integer is a number
        {"ui_auth": "15m"},
        {"ui_auth": {"session_timeout": "15m"}},
        # Keys that belong to a module, or to a mapping with free keys.
        {
            "media_storage_providers": [
                {
                    "module": "s3_storage_provider.S3StorageProviderBackend",
                    "config": {"bucket": "b", "region_name": "r"},
                }
            ]
        },
        {"modules": [{"module": "my_module.Module", "config": {"anything": [1]}}]},
        {"experimental_features": {"msc3266_enabled": True}},
        {"caches": {"per_cache_factors": {"get_users_who_share_room_with_user": 2.0}}},
        # Keys Synapse 1.163 reads that the v1.157 schema omits.
        {"server_notices": {"system_mxid_localpart": "notices"}},
        {"redis": {"enabled": True, "username": "synapse"}},
    ],
)
def test_strict_accepts_what_synapse_reads(override):
    assert homeserver_merge(BASE, override) is not None


@pytest.mark.parametrize(
    "override",
    [{"email": {"smtp_hots": "x"}}, {"max_upload_size": [1]}, {"rc_message": {"per_second": "fast"}}],
)
def test_strict_false_lets_nested_keys_and_types_through(override):
    assert homeserver_merge(BASE, override, strict=False) == {
        **BASE,
        **{k: (BASE[k] | v if isinstance(BASE.get(k), dict) else v) for k, v in override.items()},
    }


def test_strict_checks_only_overrides_not_the_base():
    assert homeserver_merge({"role_internal": 1}, {})["role_internal"] == 1


def test_strict_must_be_a_boolean():
    with pytest.raises(HomeserverConfigError, match="strict must be true or false, got 'yes'"):
        homeserver_merge(BASE, {}, strict="yes")


def test_inputs_are_not_mutated():
    base, override = copy.deepcopy(BASE), {"email": {"smtp_port": 2525}, "auto_join_rooms": ["#a:x"]}
    frozen_base, frozen_override = copy.deepcopy(base), copy.deepcopy(override)
    result = homeserver_merge(base, override, list_merge="append")
    result["email"]["smtp_host"] = "changed"
    result["auto_join_rooms"].append("#b:x")
    assert base == frozen_base
    assert override == frozen_override


def test_result_holds_only_plain_types_and_renders_as_yaml():
    class TaggedStr(str):
        pass

    class TaggedDict(dict):
        pass

    result = homeserver_merge(
        TaggedDict(server_name=TaggedStr("example.com")), {"auto_join_rooms": (TaggedStr("#a:x"),)}
    )
    assert type(result) is dict
    assert type(result["server_name"]) is str
    assert type(result["auto_join_rooms"]) is list
    assert type(result["auto_join_rooms"][0]) is str
    assert yaml.safe_load(yaml.safe_dump(result)) == result


def test_unrepresentable_value_is_named_by_path():
    with pytest.raises(HomeserverConfigError, match=r"email\.smtp_port holds a object"):
        homeserver_merge({}, {"email": {"smtp_port": object()}})
