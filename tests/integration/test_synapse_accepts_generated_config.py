"""Real Synapse (from PyPI, the chart's version) accepts what the filters produce.

Synapse's own readers are the judge here: signedjson reads the generated key and
`python -m synapse.config` parses the merged homeserver.yaml, including the key file its
signing_key_path names.
"""

import pytest
import signedjson.key
import yaml

from ansible_collections.matrixk8s.synapse.plugins.module_utils import signing_key
from ansible_collections.matrixk8s.synapse.plugins.module_utils.homeserver_config import homeserver_merge

from .synapse_config_check import check

# The override a real operator writes: email, registration, URL previews, retention and
# rate limits, in homeserver.yaml's own words.
REALISTIC_OVERRIDE = """
enable_registration: true
registrations_require_3pid: [email]
enable_registration_captcha: false
email:
  smtp_host: smtp.example.com
  smtp_port: 587
  smtp_user: matrix@example.com
  require_transport_security: true
  notif_from: "Example Matrix <matrix@example.com>"
  app_name: Example Matrix
url_preview_enabled: true
url_preview_ip_range_blacklist:
  - 127.0.0.0/8
  - 10.0.0.0/8
  - 172.16.0.0/12
  - 192.168.0.0/16
  - 169.254.0.0/16
  - ::1/128
  - fe80::/10
  - fc00::/7
retention:
  enabled: true
  default_policy:
    min_lifetime: 1d
    max_lifetime: 1y
  purge_jobs:
    - longest_max_lifetime: 3d
      interval: 12h
rc_message:
  per_second: 0.5
  burst_count: 15
rc_login:
  address:
    per_second: 0.2
    burst_count: 5
max_upload_size: 100M
"""


def role_owned_config(tmp_path, key_line):
    """What the synapse role computes, with the pod's paths moved into tmp_path."""
    key_file = tmp_path / "signing.key"
    key_file.write_text(key_line + "\n")
    secrets = {}
    for name in ("registration_shared_secret", "macaroon_secret_key", "form_secret"):
        (tmp_path / name).write_text(f"not-a-real-{name}")
        secrets[f"{name}_path"] = str(tmp_path / name)
    return {
        "server_name": "example.com",
        "public_baseurl": "https://matrix.example.com/",
        "report_stats": False,
        "listeners": [
            {
                "port": 8008,
                "type": "http",
                "x_forwarded": True,
                "bind_addresses": ["0.0.0.0"],
                "resources": [{"names": ["client", "federation"], "compress": False}],
            },
            {
                "port": 8080,
                "type": "http",
                "bind_addresses": ["0.0.0.0"],
                "resources": [{"names": ["health"]}],
            },
        ],
        "database": {
            "name": "psycopg2",
            "args": {"host": "db", "port": 5432, "user": "synapse", "password": "x", "dbname": "synapse"},
        },
        "signing_key_path": str(key_file),
        "media_store_path": str(tmp_path / "media"),
        "trusted_key_servers": [{"server_name": "matrix.org"}],
        "suppress_key_server_warning": True,
        **secrets,
    }


def test_signedjson_reads_a_generated_key_and_derives_the_same_verify_key():
    line = signing_key.signing_key_generate()
    (key,) = signedjson.key.read_signing_keys([line])
    assert f"{key.alg}:{key.version}" == signing_key.signing_key_id(line)
    verify = signedjson.key.encode_verify_key_base64(signedjson.key.get_verify_key(key))
    assert verify == signing_key.signing_key_verify_key(line)


def test_old_signing_keys_entry_decodes_with_signedjson():
    line = signing_key.signing_key_generate()
    ((key_id, entry),) = signing_key.signing_key_old_entry(line, 1_700_000_000_000).items()
    algorithm, version = key_id.split(":")
    decoded = signedjson.key.decode_verify_key_base64(algorithm, version, entry["key"])
    assert signedjson.key.encode_verify_key_base64(decoded) == signing_key.signing_key_verify_key(line)


def test_synapse_config_accepts_a_generated_key(tmp_path):
    result = check(role_owned_config(tmp_path, signing_key.signing_key_generate()), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Config parses OK!" in result.stdout


def test_synapse_config_check_does_read_the_key_file(tmp_path):
    """The check above means something: a corrupt key file makes Synapse refuse the config."""
    config = role_owned_config(tmp_path, signing_key.signing_key_generate())
    (tmp_path / "signing.key").write_text("ed25519 a_bad !!!\n")
    result = check(config, tmp_path)
    assert result.returncode == 1
    assert "signing" in (result.stdout + result.stderr).lower()


def test_realistic_override_merged_over_the_role_config_passes_synapse(tmp_path):
    base = role_owned_config(tmp_path, signing_key.signing_key_generate())
    merged = homeserver_merge(
        base, REALISTIC_OVERRIDE, protected=["server_name", "listeners", "database", "signing_key_path"]
    )
    assert merged["email"]["smtp_port"] == 587
    assert merged["listeners"] == base["listeners"]
    result = check(merged, tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "override", ["max_upload_size: [1, 2]", "email: {smtp_hots: x}"], ids=["wrong type", "nested typo"]
)
def test_strict_mode_refuses_what_synapse_would_refuse(tmp_path, override):
    """Strict mode's type and nested-key checks refuse these before any write; with strict
    mode off they pass the filter, and Synapse refuses them itself (issue 12, finding 2:
    the nested typo crash-looped the pod)."""
    base = role_owned_config(tmp_path, signing_key.signing_key_generate())
    with pytest.raises(ValueError, match="to a list|did you mean email.smtp_host"):
        homeserver_merge(base, yaml.safe_load(override))
    merged = homeserver_merge(base, yaml.safe_load(override), strict=False)
    result = check(merged, tmp_path)
    assert result.returncode == 1


@pytest.mark.parametrize("typo", ["enable_registraton", "url_preview_enable"])
def test_a_typo_fails_in_our_filter_before_synapse_sees_it(tmp_path, typo):
    base = role_owned_config(tmp_path, signing_key.signing_key_generate())
    with pytest.raises(ValueError, match="did you mean"):
        homeserver_merge(base, {typo: True})
