"""values.schema.json makes Helm refuse misspelt and wrongly typed values, and the charts
refuse to render without the existing Secrets they mount; every value is documented."""

import json

import pytest
import yaml
from chartlib import CHARTS, CHARTS_DIR, REQUIRED_SET


def refused(helm, chart, *, set_values=(), set_json=(), required=True):
    base = REQUIRED_SET[chart] if required else []
    result = helm.template(chart, set_values=[*base, *set_values], set_json=set_json)
    assert result.returncode != 0, f"helm accepted it:\n{result.stdout[:500]}"
    return result.stderr


@pytest.mark.parametrize(
    ("chart", "setting", "message"),
    [
        ("synapse", "persistance.enabled=false", "additional properties 'persistance' not allowed"),
        ("synapse", "ingress.classname=gce", "additional properties 'classname' not allowed"),
        ("synapse", "config.checksumm=abc", "additional properties 'checksumm' not allowed"),
        ("postgres", "auth.pasword=x", "additional properties 'pasword' not allowed"),
        ("postgres", "persistance.enabled=false", "additional properties 'persistance' not allowed"),
        ("well-known", "ingres.enabled=true", "additional properties 'ingres' not allowed"),
    ],
)
def test_misspelt_value_is_refused(helm, chart, setting, message):
    stderr = refused(helm, chart, set_values=[setting])
    assert "don't meet the specifications of the schema" in stderr
    assert message in stderr


@pytest.mark.parametrize(
    ("chart", "setting", "where", "message"),
    [
        ("synapse", "persistence.enabled=yes", "/persistence/enabled", "want boolean"),
        ("synapse", "database.port=postgres", "/database/port", "want integer"),
        ("synapse", "database.waitTimeoutSeconds=0", "/database/waitTimeoutSeconds", "minimum"),
        (
            "synapse",
            "persistence.accessModes={ReadWriteSometimes}",
            "/persistence/accessModes/0",
            "ReadWriteOnce",
        ),
        (
            "synapse",
            "probes.startup.failureThreshold=many",
            "/probes/startup/failureThreshold",
            "want integer",
        ),
        ("postgres", "service.port=abc", "/service/port", "want integer"),
        ("postgres", "podSecurityContext.runAsUser=0", "/podSecurityContext/runAsUser", "minimum"),
        ("postgres", "persistence.size=lots", "/persistence/size", "pattern"),
        ("well-known", "service.type=Internal", "/service/type", "ClusterIP"),
    ],
)
def test_wrong_type_is_refused(helm, chart, setting, where, message):
    stderr = refused(helm, chart, set_values=[setting])
    assert f"at '{where}'" in stderr
    assert message in stderr


# Least privilege (issue 12): no chart runs anything as root or as the root group, and no
# pod gets the node's files, whatever the values say (Pod Security "restricted" would refuse
# the pod later, in the cluster; the schema refuses the values at once).
@pytest.mark.parametrize("chart", CHARTS)
@pytest.mark.parametrize("field", ["runAsUser", "runAsGroup", "fsGroup"])
def test_root_identity_is_refused(helm, chart, field):
    stderr = refused(helm, chart, set_values=[f"podSecurityContext.{field}=0"])
    assert f"at '/podSecurityContext/{field}'" in stderr
    assert "minimum" in stderr


@pytest.mark.parametrize("chart", CHARTS)
def test_run_as_root_allowed_is_refused(helm, chart):
    stderr = refused(helm, chart, set_values=["podSecurityContext.runAsNonRoot=false"])
    assert "additional properties 'runAsNonRoot' not allowed" in stderr


@pytest.mark.parametrize(
    "volume",
    [
        {"name": "host", "hostPath": {"path": "/"}},
        {"name": "docker", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}},
    ],
)
def test_host_path_volume_is_refused(helm, volume):
    stderr = refused(helm, "synapse", set_json=[f"extraVolumes=[{json.dumps(volume)}]"])
    assert "at '/extraVolumes/0'" in stderr


def test_other_extra_volumes_are_accepted(helm):
    volume = {"name": "extra", "secret": {"secretName": "synapse-extra"}}
    result = helm.template(
        "synapse", set_values=REQUIRED_SET["synapse"], set_json=[f"extraVolumes=[{json.dumps(volume)}]"]
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('server={"m.sever": "matrix.example.com:443"}', "m.server"),
        ('client={"m.homeserver": {"base_url": "matrix.example.com"}}', "/client/m.homeserver/base_url"),
        ('support={"contacts": [{"role": "m.role.admin"}]}', "matrix_id"),
    ],
)
def test_bad_delegation_document_is_refused(helm, setting, message):
    assert message in refused(helm, "well-known", set_json=[setting])


@pytest.mark.parametrize(
    ("chart", "missing", "message"),
    [
        ("postgres", [], "auth.existingSecret is required"),
        ("synapse", ["signingKey.existingSecret=k"], "config.existingSecret is required"),
        ("synapse", ["config.existingSecret=c"], "signingKey.existingSecret is required"),
    ],
)
def test_required_existing_secret(helm, chart, missing, message):
    assert message in refused(helm, chart, set_values=missing, required=False)


@pytest.mark.parametrize("chart", ["synapse", "well-known"])
def test_ingress_needs_a_host(helm, chart):
    assert "ingress.host is required" in refused(helm, chart, set_values=["ingress.enabled=true"])


@pytest.mark.parametrize("chart", ["synapse", "well-known"])
def test_ingress_class_given_twice_is_refused(helm, chart):
    stderr = refused(
        helm,
        chart,
        set_values=[
            "ingress.enabled=true",
            "ingress.host=example.com",
            "ingress.className=nginx",
            "ingress.annotations.kubernetes\\.io/ingress\\.class=nginx",
        ],
    )
    assert "use only one" in stderr


# --- documentation ---------------------------------------------------------------------------

# Shared definitions documented as one README row each (a probe's row gives its four timings;
# the library chart's values key holds only what Helm adds).
ONE_ROW_DEFINITIONS = {"resources", "probe", "libraryValues"}


def _resolve(schema, node):
    """(definition name or None, node) after following $ref (and allOf wrappers)."""
    name = None
    while "$ref" in node or ("allOf" in node and len(node) <= 2):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[1]
            node = schema["definitions"][name]
        else:
            node = node["allOf"][0]
    return name, node


def owned_value_paths(chart):
    """Dotted paths of every value whose level the chart owns (schema: additionalProperties
    false); free-form mappings such as resources or annotations count as one value."""
    schema = json.loads((CHARTS_DIR / chart / "values.schema.json").read_text())
    values = yaml.safe_load((CHARTS_DIR / chart / "values.yaml").read_text())
    paths = []

    def walk(prefix, node, value):
        name, node = _resolve(schema, node)
        if (
            name not in ONE_ROW_DEFINITIONS
            and node.get("additionalProperties") is False
            and isinstance(value, dict)
            and node.get("properties")
        ):
            for key in node["properties"]:
                walk(f"{prefix}{key}.", node["properties"][key], value.get(key))
        else:
            paths.append(prefix[:-1])

    walk("", schema, values)
    return paths


@pytest.mark.parametrize("chart", CHARTS)
def test_schema_and_values_agree(chart):
    schema = json.loads((CHARTS_DIR / chart / "values.schema.json").read_text())
    values = yaml.safe_load((CHARTS_DIR / chart / "values.yaml").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert set(schema["properties"]) == set(values), "values.yaml and the schema list different keys"


@pytest.mark.parametrize("chart", CHARTS)
def test_readme_documents_every_value(chart):
    readme = (CHARTS_DIR / chart / "README.md").read_text()
    assert "\n## Values\n" in readme
    table = readme.split("\n## Values\n", 1)[1]
    rows = {line.split("|")[1].strip().strip("`") for line in table.splitlines() if line.startswith("| `")}
    missing = [p for p in owned_value_paths(chart) if p not in rows]
    assert not missing, f"README.md of {chart} does not list: {missing}"
    unknown = rows - set(owned_value_paths(chart))
    assert not unknown, f"README.md of {chart} lists values that do not exist: {sorted(unknown)}"
