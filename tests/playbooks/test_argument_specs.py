"""meta/argument_specs.yml rejects bad input before any of the role's tasks runs.

Each case runs site.yml against a cluster that cannot be reached: the run must stop at
the role's "Validating arguments against arg spec" task, with a message that names the
variable, and no Kubernetes module may have run before it.
"""

import pytest
from playbooklib import run_playbook

CASES = [
    # (extra vars, role whose validation fails, text the message must contain)
    ({"postgres_enabled": "maybe"}, "postgres", "postgres_enabled"),
    ({"postgres_password_length": "long"}, "postgres", "postgres_password_length"),
    ({"postgres_image_pull_policy": "Sometimes"}, "postgres", "postgres_image_pull_policy"),
    ({"postgres_access_modes": ["ReadWriteEverywhere"]}, "postgres", "postgres_access_modes"),
    ({"signing_key_rotate": "perhaps"}, "signing_key", "signing_key_rotate"),
    ({"synapse_homeserver_strict": "sometimes"}, "synapse", "synapse_homeserver_strict"),
    ({"synapse_database_port": "five"}, "synapse", "synapse_database_port"),
    ({"synapse_service_type": "ExternalName"}, "synapse", "synapse_service_type"),
    ({"synapse_admin_users": [{"password": "x"}]}, "synapse", "username"),
    (
        {"synapse_admin_users": [{"username": "root", "password": "x", "password_secret_name": "s"}]},
        "synapse",
        "mutually exclusive",
    ),
    ({"synapse_resources": "lots"}, "synapse", "synapse_resources"),
    ({"synapse_email": {"smtp_host": "smtp.example.test", "tls": "ssl"}}, "synapse", "synapse_email"),
    (
        {"synapse_email": {"smtp_host": "smtp.example.test", "smtp_port": "submission"}},
        "synapse",
        "smtp_port",
    ),
    ({"synapse_email": {"smtp_hots": "smtp.example.test"}}, "synapse", "smtp_hots"),
    ({"well_known_mode": "apache"}, "well_known", "well_known_mode"),
    ({"well_known_federation_port": "https"}, "well_known", "well_known_federation_port"),
    ({"well_known_client_extra": ["not", "a", "mapping"]}, "well_known", "well_known_client_extra"),
]


@pytest.mark.parametrize(("extra_vars", "role", "needle"), CASES, ids=[str(c[0]) for c in CASES])
def test_bad_input_fails_in_argument_validation(extra_vars, role, needle, tmp_path, unreachable_kubeconfig):
    run = run_playbook(
        "site.yml",
        extra_vars={"matrix_kubeconfig": str(unreachable_kubeconfig), **extra_vars},
        tmp_path=tmp_path,
    )
    assert run.returncode != 0
    failed = run.failed_task
    assert failed is not None, run.describe()
    assert failed.action == "ansible.builtin.validate_argument_spec", run.describe()
    assert f"matrixk8s.synapse.{role} :" in failed.name, run.describe()
    assert "Validating arguments against arg spec" in failed.name
    assert needle in failed.message, run.describe()
    # Nothing reached for the cluster before the failure.
    assert not [t for t in run.before_failure() if t.action.startswith("kubernetes.core.")]


def test_arg_spec_failure_does_not_print_a_no_log_value(tmp_path, unreachable_kubeconfig):
    """A wrongly typed admin password is reported by name, never by value."""
    password = "Sup3r-Secret-Value-77"
    run = run_playbook(
        "site.yml",
        extra_vars={
            "matrix_kubeconfig": str(unreachable_kubeconfig),
            "synapse_admin_users": [
                {"username": "Not Valid", "password": password, "password_secret_name": "x"}
            ],
        },
        tmp_path=tmp_path,
    )
    assert run.returncode != 0
    assert password not in run.stdout
    assert password not in run.stderr
