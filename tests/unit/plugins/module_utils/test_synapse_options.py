"""The option data strict mode checks is generated from Synapse's schema and must not drift
from it, nor refuse what the schema itself shows."""

import pathlib
import subprocess
import sys

import pytest
import yaml

from ansible_collections.matrixk8s.synapse.plugins.module_utils import synapse_options
from ansible_collections.matrixk8s.synapse.plugins.module_utils.homeserver_config import (
    INSECURE_TLS_OPTIONS,
    HomeserverConfigError,
    homeserver_merge,
)

REPO = pathlib.Path(__file__).resolve().parents[4]
_IN_SHARED = pathlib.Path("shared", "data", "synapse-schema", "synapse-config.schema.yaml")
# ../shared beside the checkout; from a git worktree (../wt/<name>) the nearest one above it.
SCHEMA = next((p / _IN_SHARED for p in REPO.parents if (p / _IN_SHARED).is_file()), REPO.parent / _IN_SHARED)
needs_schema = pytest.mark.skipif(
    not SCHEMA.exists(), reason="the shared Synapse schema is not beside this checkout"
)


@needs_schema
def test_generated_data_matches_the_schema():
    result = subprocess.run(
        [sys.executable, str(REPO / "dev" / "generate_synapse_options.py"), str(SCHEMA), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_list_holds_the_options_users_set_most():
    for option in (
        "server_name",
        "enable_registration",
        "email",
        "retention",
        "url_preview_enabled",
        "rc_message",
    ):
        assert option in synapse_options.KNOWN_OPTIONS
    assert synapse_options.SYNAPSE_SCHEMA_VERSION == "v1.157"


def test_nested_objects_and_types_are_there():
    assert {"smtp_host", "smtp_port", "notif_from"} <= synapse_options.NESTED_OPTIONS["email"]
    assert "interval" in synapse_options.NESTED_OPTIONS["retention.purge_jobs[]"]
    assert synapse_options.OPTION_TYPES["max_upload_size"] == ("integer", "string")
    # The schema says string, its own example says 587: both are Synapse's.
    assert set(synapse_options.OPTION_TYPES["email.smtp_port"]) >= {"integer", "string"}
    # A module's configuration is open: nothing is known (or checked) inside it.
    assert "media_storage_providers[].config" not in synapse_options.NESTED_OPTIONS


def _examples(node, defs):
    """Every (option, example) of the schema's top-level options."""
    for name, option in node["properties"].items():
        if "$ref" in option:
            option = {**defs[option["$ref"].rsplit("/", 1)[-1]], **option}
        for example in option.get("examples", []):
            yield name, example


@needs_schema
def test_every_example_of_the_schema_passes_strict_mode():
    """Strict mode refuses nothing the schema documents as an example (the examples show
    keys and types the schema's properties omit; the generator knows them). The one
    exception is on purpose: examples that turn off federation certificate checks, which
    every merge refuses (homeserver_config.INSECURE_TLS_OPTIONS), strict or not."""
    schema = yaml.safe_load(SCHEMA.read_text())
    checked = 0
    for name, example in _examples(schema, schema["$defs"]):
        safe = INSECURE_TLS_OPTIONS.get(name)
        if safe is not None and not any(example == v and type(example) is type(v) for v in safe):
            with pytest.raises(HomeserverConfigError, match="turns off the verification of other servers"):
                homeserver_merge({}, {name: example})
        else:
            homeserver_merge({}, {name: example})
        checked += 1
    assert checked > 200
