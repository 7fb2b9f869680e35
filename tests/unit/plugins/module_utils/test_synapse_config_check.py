"""Synapse's complaint about a refused homeserver.yaml: its reason, never a value of the file.

The logs below are what `python -m synapse.config -c` (Synapse 1.163.2) printed for refused
files (tests/integration/test_synapse_config_complaint.py produces them again with a real
Synapse); the property test puts random secrets anywhere in the configuration.
"""

import string

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_config_check import (
    synapse_config_complaint,
)

WARNING = """Synapse requires that a list of trusted key servers are specified in order to
provide signing keys for other servers in the federation.

In a future release the software-defined default will be removed entirely and
the trusted key server will be defined exclusively by the value of
'trusted_key_servers'.
--------------------------------------------------------------------------------
"""

EMAIL_LOG = (
    WARNING
    + """
Password reset emails are enabled on this homeserver due to a partial
'email' block. However, the following required keys are missing:
    email.notif_from
"""
)

TRACEBACK_LOG = """Traceback (most recent call last):
  File "<frozen runpy>", line 198, in _run_module_as_main
  File "/usr/local/lib/python3.13/site-packages/synapse/config/_base.py", line 201, in parse_size
    raise TypeError(f"Bad byte size {value!r}")
TypeError: Bad byte size 'hunter2-secret'
"""


def test_the_reason_without_the_start_up_warning():
    config = yaml.safe_dump({"email": {"smtp_host": "mail.internal"}})
    complaint = synapse_config_complaint(EMAIL_LOG, config)
    assert "email.notif_from" in complaint
    assert "required keys are missing" in complaint
    assert "trusted key servers" not in complaint


def test_a_traceback_is_cut_to_its_last_line_and_the_value_is_masked():
    config = yaml.safe_dump({"max_upload_size": "hunter2-secret"})
    complaint = synapse_config_complaint(TRACEBACK_LOG, config)
    assert complaint == "TypeError: Bad byte size '<value>'"


def test_the_callers_secrets_are_masked_however_short():
    complaint = synapse_config_complaint("Error in configuration: abc is wrong", "{}", secrets=["abc"])
    assert complaint == "Error in configuration: <value> is wrong"


def test_option_names_stay_readable():
    # "email" is both a key and a word of the reason: keys are never masked.
    config = yaml.safe_dump({"email": {"smtp_host": "x", "notif_from": None}, "public_baseurl": "email"})
    assert "email.notif_from" in synapse_config_complaint(EMAIL_LOG, config)


def test_a_long_log_is_cut():
    log = "\n".join(f"line {i}" for i in range(100))
    assert len(synapse_config_complaint(log, "{}").splitlines()) == 20


SECRETS = st.text(string.ascii_letters + string.digits + "!@#%&*-_", min_size=4, max_size=40).filter(
    lambda s: s not in "<value>"  # the mask itself holds "value"
)
PATHS = st.lists(
    st.sampled_from(["email", "smtp_pass", "database", "args", "turn_shared_secret"]), min_size=1, max_size=3
)


@settings(max_examples=300, deadline=None)
@given(secret=SECRETS, path=PATHS, prefix=st.text(max_size=20), suffix=st.text(max_size=20))
def test_no_value_of_the_configuration_is_ever_shown(secret, path, prefix, suffix):
    config = node = {}
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = secret
    text = yaml.safe_dump(config)
    # The value wherever Synapse might quote it: in its reason, or in a traceback's last line.
    for log in (
        f"{WARNING}\n{prefix}{secret}{suffix}\n",
        f"{TRACEBACK_LOG}ValueError: {prefix}{secret}{suffix}\n",
    ):
        complaint = synapse_config_complaint(log, text)
        # A secret that is also an option name stays (keys are never masked), and
        # the line cut may hide it: neither case is shown here.
        if secret not in path:
            assert secret not in complaint
