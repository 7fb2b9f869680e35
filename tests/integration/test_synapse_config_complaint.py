"""Real Synapse refuses a homeserver.yaml, and the role's message quotes its reason safely.

The synapse role runs `python -m synapse.config` in a Job before a rollout and quotes what
it printed through the synapse_config_complaint filter. Here the same command runs on
loopback with the chart's Synapse version, on files the role could render, each carrying
secret values: the complaint names the option and holds no value of the file.
"""

import pytest

from ansible_collections.matrixk8s.synapse.plugins.module_utils import signing_key
from ansible_collections.matrixk8s.synapse.plugins.module_utils.homeserver_config import homeserver_merge
from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_config_check import (
    synapse_config_complaint,
)

from .synapse_config_check import check
from .test_synapse_accepts_generated_config import role_owned_config

DB_PASSWORD = "db-password-Zq8vW3kP"
SMTP_PASSWORD = "smtp-password-Lm4Rt9xB"


@pytest.mark.parametrize(
    ("override", "named"),
    [
        # The real-node test (tests/node/test_config_rollout.py) uses this one: a partial
        # email block, accepted by every schema, refused by Synapse at start.
        ({"email": {"smtp_host": "x", "smtp_pass": SMTP_PASSWORD}}, "email.notif_from"),
        # A value Synapse quotes in its reason (a traceback's last line).
        ({"max_upload_size": SMTP_PASSWORD}, "invalid literal for int()"),
    ],
)
def test_synapse_refuses_and_the_complaint_names_the_option_without_values(tmp_path, override, named):
    config = role_owned_config(tmp_path, signing_key.signing_key_generate())
    config["database"]["args"]["password"] = DB_PASSWORD
    merged = homeserver_merge(config, override)
    result = check(merged, tmp_path)
    assert result.returncode == 1, result.stdout
    log = result.stdout + result.stderr
    text = (tmp_path / "homeserver.yaml").read_text()
    complaint = synapse_config_complaint(log, text)
    assert named in complaint, (complaint, log)
    for secret in (DB_PASSWORD, SMTP_PASSWORD):
        assert secret not in complaint
    # The negative control: without the filter, a value does reach the log.
    if "max_upload_size" in override:
        assert SMTP_PASSWORD in log
