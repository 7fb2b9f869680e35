"""Each chart's values.schema.json is built from charts/schema/ (its own part and the shared
definitions, each written once) by dev/build_chart_schemas.py; a stale built file fails."""

import json
import subprocess
import sys

import pytest
from chartlib import CHARTS, CHARTS_DIR, SCHEMA_BUILDER

SOURCE = CHARTS_DIR / "schema"


def build(*args):
    return subprocess.run(
        [sys.executable, str(SCHEMA_BUILDER), *args], capture_output=True, text=True, timeout=60
    )


def test_built_schemas_are_current():
    result = build("--check")
    assert result.returncode == 0, result.stderr


def test_every_chart_has_a_source_part():
    assert sorted(p.stem for p in SOURCE.glob("*.json")) == sorted(CHARTS)


@pytest.mark.parametrize("chart", CHARTS)
def test_definitions_are_the_shared_files(chart):
    part = json.loads((SOURCE / f"{chart}.json").read_text())
    assert "definitions" not in part, "a chart's part must use the shared definitions"
    built = json.loads((CHARTS_DIR / chart / "values.schema.json").read_text())
    for name, definition in built["definitions"].items():
        assert definition == json.loads((SOURCE / "definitions" / f"{name}.json").read_text()), name
    for key, value in part.items():
        assert built[key] == value, key


def test_every_shared_definition_is_used():
    used = set()
    for chart in CHARTS:
        used |= set(json.loads((CHARTS_DIR / chart / "values.schema.json").read_text())["definitions"])
    assert used == {p.stem for p in (SOURCE / "definitions").glob("*.json")}


def test_check_names_every_stale_schema(charts_copy):
    # hostname is used by the synapse and well-known charts only.
    definition = charts_copy / "schema" / "definitions" / "hostname.json"
    changed = json.loads(definition.read_text()) | {"maxLength": 200}
    definition.write_text(json.dumps(changed))
    result = build("--check", "--charts-dir", str(charts_copy))
    assert result.returncode == 1
    assert str(charts_copy / "synapse" / "values.schema.json") in result.stderr
    assert str(charts_copy / "well-known" / "values.schema.json") in result.stderr
    assert "postgres" not in result.stderr
    # Building makes it current again, and the change is in both charts.
    assert build("--charts-dir", str(charts_copy)).returncode == 0
    assert build("--check", "--charts-dir", str(charts_copy)).returncode == 0
    for chart in ("synapse", "well-known"):
        schema = json.loads((charts_copy / chart / "values.schema.json").read_text())
        assert schema["definitions"]["hostname"]["maxLength"] == 200


def test_an_unknown_reference_is_refused(charts_copy):
    part = charts_copy / "schema" / "postgres.json"
    schema = json.loads(part.read_text())
    schema["properties"]["nameOverride"] = {"$ref": "#/definitions/noSuchThing"}
    part.write_text(json.dumps(schema))
    result = build("--check", "--charts-dir", str(charts_copy))
    assert result.returncode != 0
    assert "noSuchThing" in result.stderr
