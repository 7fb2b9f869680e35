"""checked_chart_values: the values a role would pass, checked offline against the chart's
schema, with errors that name the variable behind a bad value and quote no value."""

import pathlib

import pytest
import yaml

from ansible_collections.matrixk8s.synapse.plugins.module_utils.chart_values import (
    ChartValuesError,
    checked_chart_values,
    coalesce,
)

REPO = pathlib.Path(__file__).resolve().parents[4]
CHARTS = REPO / "charts"
CHART_OF_ROLE = {"postgres": "postgres", "synapse": "synapse", "well_known": "well-known"}
SYNAPSE_VARIABLES = {
    "database.port": "synapse_database_port",
    "image.tag": "synapse_image_tag",
    "ingress.tls": "synapse_ingress_tls",
}
SECRET = "s3cr3t-Value"


def refusal(values, chart="synapse", **kwargs):
    with pytest.raises(ChartValuesError) as caught:
        checked_chart_values(values, CHARTS / chart, **kwargs)
    return str(caught.value)


@pytest.mark.parametrize("chart", sorted(CHART_OF_ROLE.values()))
def test_the_chart_defaults_pass_and_the_values_come_back_unchanged(chart):
    values = {"chartDigest": "sha256:" + "0" * 64}
    assert checked_chart_values(values, CHARTS / chart) is values


@pytest.mark.parametrize(
    "case", sorted(CHARTS.glob("*/ci/*-values.yaml")), ids=lambda p: f"{p.parts[-3]}/{p.name}"
)
def test_every_ci_value_set_passes(case):
    values = yaml.safe_load(case.read_text()) or {}
    assert checked_chart_values(values, case.parents[1]) == values


def test_a_bad_value_names_the_role_variable_and_the_rule():
    message = refusal({"database": {"port": 70000}}, variables=SYNAPSE_VARIABLES)
    assert "synapse_database_port (chart value database.port) must be at most 65535" in message
    assert "70000" not in message
    assert message.startswith("the synapse chart would refuse these values")


def test_a_path_under_a_mapped_value_names_its_variable_with_the_full_path():
    message = refusal({"ingress": {"tls": [{"hosts": ["Upper.example.com"]}]}}, variables=SYNAPSE_VARIABLES)
    assert "synapse_ingress_tls (chart value ingress.tls[0].hosts[0]) must match the pattern" in message
    assert "Upper" not in message


def test_a_value_the_override_sets_names_the_override_not_the_role_variable():
    message = refusal(
        {"database": {"port": 0}},
        variables=SYNAPSE_VARIABLES,
        overrides={"synapse_chart_values": {"database": {"port": 0}}},
    )
    assert "synapse_chart_values.database.port must be at least 1" in message
    assert "synapse_database_port" not in message


def test_an_unmapped_value_is_named_by_its_chart_path():
    message = refusal({"service": {"type": "Bogus"}})
    assert 'chart value service.type must be one of "ClusterIP", "NodePort", "LoadBalancer"' in message


def test_a_type_error_says_what_was_expected_and_what_came():
    message = refusal({"image": {"tag": [1]}}, variables=SYNAPSE_VARIABLES)
    assert "synapse_image_tag (chart value image.tag) must be a string or an integer, not a list" in message


def test_an_unknown_key_is_refused_with_did_you_mean():
    message = refusal({"databse": {}}, overrides={"synapse_chart_values": {"databse": {}}})
    assert (
        "synapse_chart_values.databse is not a value of the synapse chart (did you mean database?)" in message
    )


def test_null_removes_a_value_as_helm_does_and_a_required_one_is_missing():
    message = refusal({"config": None})
    assert "chart value config is missing (the synapse chart requires it" in message


def test_every_bad_value_is_listed_once():
    message = refusal({"database": {"port": 70000}, "image": {"tag": "a b"}}, variables=SYNAPSE_VARIABLES)
    assert message.count("synapse_database_port") == 1
    assert message.count("synapse_image_tag") == 1


@pytest.mark.parametrize(
    ("chart", "values"),
    [
        ("synapse", {"image": {"tag": SECRET + " x"}}),  # pattern
        ("synapse", {"service": {"annotations": SECRET}}),  # type
        ("postgres", {"extraEnv": [{"name": 5, "value": SECRET}]}),  # a sibling of the secret
        ("well-known", {"service": {"type": SECRET}}),  # enum
        ("synapse", {SECRET: 1}),  # an unknown key is named, but that is a key, not a value
    ],
)
def test_no_error_quotes_a_value(chart, values):
    message = refusal(values, chart=chart)
    if SECRET in values:
        assert message.count(SECRET) == 1  # the key, named once
    else:
        assert SECRET not in message


def test_postgres_and_well_known_refuse_a_bad_port_the_same_way():
    postgres = refusal(
        {"service": {"port": 70000}},
        chart="postgres",
        overrides={"postgres_chart_values": {"service": {"port": 70000}}},
    )
    assert "postgres_chart_values.service.port must be at most 65535" in postgres
    well_known = refusal(
        {"service": {"port": 0}},
        chart="well-known",
        overrides={"well_known_chart_values": {"service": {"port": 0}}},
    )
    assert "well_known_chart_values.service.port must be at least 1" in well_known


def test_a_chart_without_a_schema_is_named(tmp_path):
    (tmp_path / "values.yaml").write_text("a: 1\n")
    with pytest.raises(ChartValuesError, match=r"cannot read .*values\.schema\.json"):
        checked_chart_values({}, tmp_path)


def test_values_must_be_a_mapping():
    with pytest.raises(ChartValuesError, match="the chart values must be a mapping, got list"):
        checked_chart_values([], CHARTS / "synapse")


def test_coalesce_merges_mappings_replaces_the_rest_and_null_deletes():
    defaults = {"a": {"b": 1, "c": 2}, "l": [1, 2], "d": 1, "keep": True}
    assert coalesce(defaults, {"a": {"b": 3}, "l": [9], "d": None}) == {
        "a": {"b": 3, "c": 2},
        "l": [9],
        "keep": True,
    }
    assert defaults == {"a": {"b": 1, "c": 2}, "l": [1, 2], "d": 1, "keep": True}


@pytest.mark.parametrize("role", sorted(CHART_OF_ROLE))
def test_each_role_maps_only_values_its_chart_has(role):
    """The roles' maps of chart value paths to variables (vars/main.yml) would name nobody
    once a chart value is renamed: every path must be a value of the chart."""
    variables = yaml.safe_load((REPO / "roles" / role / "vars" / "main.yml").read_text())
    mapping = variables[f"_{role}_value_variables"]
    assert mapping
    defaults = yaml.safe_load((CHARTS / CHART_OF_ROLE[role] / "values.yaml").read_text())
    for path, variable in mapping.items():
        node = defaults
        for key in path.split("."):
            assert key in (node if isinstance(node, dict) else {}), f"{role}: {path} is no value of the chart"
            node = node[key]
        assert variable.startswith(role + "_"), variable
