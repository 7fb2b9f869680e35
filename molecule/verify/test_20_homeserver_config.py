"""The homeserver.yaml Secret: it parses, holds the inventory's overrides, and Synapse accepts it."""

import subprocess
import sys

import verifylib
import yaml


def _inventory_overrides():
    overrides = verifylib.group_vars()["synapse_homeserver"]
    # The variable may be written as a mapping or as a YAML block string.
    return yaml.safe_load(overrides) if isinstance(overrides, str) else overrides


def _missing(expected, actual, where=""):
    """Where actual differs from expected: mappings key by key, everything else whole."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where or '/'}: expected a mapping, found {actual!r}"]
        out = []
        for key, value in expected.items():
            if key not in actual:
                out.append(f"{where}/{key}: missing")
            else:
                out += _missing(value, actual[key], f"{where}/{key}")
        return out
    return [] if expected == actual else [f"{where}: expected {expected!r}, found {actual!r}"]


def test_homeserver_yaml_parses_to_a_mapping(core):
    config = yaml.safe_load(verifylib.homeserver_yaml(core))
    assert isinstance(config, dict)
    assert config["server_name"] == verifylib.group_vars()["matrix_server_name"]


def test_homeserver_yaml_holds_every_inventory_override(core):
    overrides = _inventory_overrides()
    assert overrides, "the inventory sets no synapse_homeserver: nothing would be checked"
    config = yaml.safe_load(verifylib.homeserver_yaml(core))
    assert not _missing(overrides, config)


def test_synapse_config_check_accepts_the_stored_homeserver_yaml(core, tmp_path):
    """`python -m synapse.config -c`, with the pod's secret paths pointed at local copies."""
    config = yaml.safe_load(verifylib.homeserver_yaml(core))
    (tmp_path / "signing.key").write_text(verifylib.secret_text(core, "synapse-signing-key")["signing.key"])
    config["signing_key_path"] = str(tmp_path / "signing.key")
    for name, value in verifylib.secret_text(core, "synapse-secrets").items():
        (tmp_path / name).write_text(value)
        assert config[f"{name}_path"].startswith("/secrets/synapse/")
        config[f"{name}_path"] = str(tmp_path / name)
    (tmp_path / "media").mkdir()
    config["media_store_path"] = str(tmp_path / "media")
    path = tmp_path / "homeserver.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = subprocess.run(
        [sys.executable, "-m", "synapse.config", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Config parses OK" in proc.stdout + proc.stderr
