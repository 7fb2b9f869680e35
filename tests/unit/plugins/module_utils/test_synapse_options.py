"""The known-option list is generated from Synapse's schema and must not drift from it."""

import pathlib
import subprocess
import sys

import pytest

from ansible_collections.matrixk8s.synapse.plugins.module_utils import synapse_options

REPO = pathlib.Path(__file__).resolve().parents[4]
SCHEMA = REPO.parent / "shared" / "data" / "synapse-schema" / "synapse-config.schema.yaml"


@pytest.mark.skipif(not SCHEMA.exists(), reason="the shared Synapse schema is not beside this checkout")
def test_generated_list_matches_the_schema():
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
