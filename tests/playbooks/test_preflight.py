"""Configuration mistakes fail in the roles' validate step, before any cluster access.

site.yml's first play validates every role's input before it reads the cluster (through
roles/_common/tasks/read.yml). These
runs point at a cluster that cannot be reached, so a mistake that slipped through
validation would show up as "Cannot reach the Kubernetes API" instead of its own message.
"""

import pytest
from playbooklib import NAMESPACE, run_playbook

GOOD_KEY = "ed25519 a_AbCd " + "A" * 43

CASES = {
    "unknown Synapse option": (
        {"synapse_homeserver": {"enable_registraton": True}},
        "synapse",
        ["enable_registraton", "did you mean enable_registration", "synapse_homeserver"],
    ),
    "unknown option in a YAML string": (
        {"synapse_homeserver": "url_preview_enabeld: true\n"},
        "synapse",
        ["url_preview_enabeld", "did you mean"],
    ),
    # Issue 12, finding 2: nested typos and wrong types reached the cluster.
    "unknown nested Synapse option": (
        {"synapse_homeserver": {"email": {"smtp_hots": "x"}}},
        "synapse",
        ["synapse_homeserver", "'email.smtp_hots'", "did you mean email.smtp_host?"],
    ),
    "Synapse option of the wrong type": (
        {"synapse_homeserver": {"max_upload_size": [1]}},
        "synapse",
        ["synapse_homeserver", "'max_upload_size' to a list", "expects an integer or a string"],
    ),
    "malformed YAML string": (
        {"synapse_homeserver": "max_upload_size: [100M\n"},
        "synapse",
        ["synapse_homeserver", "not valid YAML"],
    ),
    "protected option server_name": (
        {"synapse_homeserver": {"server_name": "other.example"}},
        "synapse",
        ["server_name", "matrix_server_name"],
    ),
    "protected option inside database": (
        {"synapse_homeserver": {"database": {"args": {"cp_max": 50}}}},
        "synapse",
        ["database", "synapse_database_"],
    ),
    "protected option listeners": (
        {"synapse_homeserver": {"listeners": []}},
        "synapse",
        ["listeners", "synapse_listener_bind_addresses"],
    ),
    "inline secret that the role generates": (
        {"synapse_homeserver": {"macaroon_secret_key": "abc"}},
        "synapse",
        ["macaroon_secret_key", "synapse-secrets"],
    ),
    "signing key path": (
        {"synapse_homeserver": {"signing_key_path": "/data/key"}},
        "synapse",
        ["signing_key_path", "matrix_signing_key_secret"],
    ),
    "synapse_homeserver is a list": (
        {"synapse_homeserver": ["enable_registration"]},
        "synapse",
        ["synapse_homeserver"],
    ),
    "malformed signing_key_value": (
        {"signing_key_value": "ed25519 a_AbCd not-base64!"},
        "signing_key",
        ["signing_key_value", "base64"],
    ),
    "signing key of the wrong algorithm": (
        {"signing_key_value": "rsa a_AbCd " + "A" * 43},
        "signing_key",
        ["signing_key_value", "ed25519"],
    ),
    "invalid server name": (
        {"matrix_server_name": "not a server!"},
        "synapse",
        ["matrix_server_name", "not a valid Matrix server name"],
    ),
    "empty server name": (
        {"matrix_server_name": ""},
        "synapse",
        ["matrix_server_name is not set"],
    ),
    "database without C collation": (
        {"postgres_initdb_args": "--encoding=UTF8 --locale=en_US.UTF-8"},
        "postgres",
        ["postgres_initdb_args", "--locale=C"],
    ),
    "bad storage size": (
        {"postgres_storage_size": "ten gigs"},
        "postgres",
        ["postgres_storage_size"],
    ),
    "bad wait timeout": (
        {"synapse_wait_timeout": "10 minutes"},
        "synapse",
        ["synapse_wait_timeout"],
    ),
    "external database without a host": (
        {"matrix_postgres_enabled": False},
        "synapse",
        ["synapse_database_host"],
    ),
    "database args that replace role-owned ones": (
        {"synapse_database_args": {"password": "x"}},
        "synapse",
        ["synapse_database_args"],
    ),
    "admin username that is not a localpart": (
        {"synapse_admin_users": [{"username": "Alice Smith"}]},
        "synapse",
        ["synapse_admin_users", "Alice Smith"],
    ),
    "support document without contacts or page": (
        {"well_known_support": {"email": "admin@example.test"}},
        "well_known",
        ["well_known_support"],
    ),
    # Issue 12, "Further": references that cannot hold an image, an admin Secret shared by
    # two usernames, a redirected m.homeserver, a signing key inline with strict mode off.
    "image tag with a space": ({"synapse_image_tag": "v1.163.2 latest"}, "synapse", ["synapse_image_tag"]),
    "image tag starting with a dash": (
        {"well_known_image_tag": "-alpine"},
        "well_known",
        ["well_known_image_tag"],
    ),
    "image tag with a digest": (
        {"synapse_image_tag": "v1@sha256:" + "0" * 64},
        "synapse",
        ["synapse_image_tag"],
    ),
    "image repository with upper case": (
        {"postgres_image_repository": "docker.io/Library/postgres"},
        "postgres",
        ["postgres_image_repository"],
    ),
    "image repository with a space": (
        {"well_known_image_repository": "docker.io/nginxinc/nginx unprivileged"},
        "well_known",
        ["well_known_image_repository"],
    ),
    "image repository with a tag": (
        {"synapse_image_repository": "docker.io/matrixdotorg/synapse:latest"},
        "synapse",
        ["synapse_image_repository"],
    ),
    "two admins sharing one generated Secret": (
        {"synapse_admin_users": [{"username": "alice.smith"}, {"username": "alice_smith"}]},
        "synapse",
        ["alice.smith and alice_smith (synapse-admin-alice-smith)", "password_secret_name"],
    ),
    "well_known_client_extra redirecting m.homeserver": (
        {"well_known_client_extra": {"m.homeserver": {"base_url": "https://elsewhere.example"}}},
        "well_known",
        ["well_known_client_extra", "m.homeserver", "well_known_client_base_url"],
    ),
    "inline signing_key with strict mode off": (
        {"synapse_homeserver_strict": False, "synapse_homeserver": {"signing_key": "ed25519 a_x y"}},
        "synapse",
        ["signing_key", "matrix_signing_key_secret"],
    ),
    "signing_key_path with strict mode off": (
        {"synapse_homeserver_strict": False, "synapse_homeserver": {"signing_key_path": "/data/k"}},
        "synapse",
        ["signing_key_path", "matrix_signing_key_secret"],
    ),
    "old_signing_keys with strict mode off": (
        {"synapse_homeserver_strict": False, "synapse_homeserver": {"old_signing_keys": {}}},
        "synapse",
        ["old_signing_keys", "signing_key_rotate"],
    ),
    "well_known mode synapse with Synapse not serving it": (
        {"matrix_well_known_mode": "synapse", "synapse_serve_server_wellknown": False},
        "synapse",
        ["synapse_serve_server_wellknown"],
    ),
    # Issue 13: the TLS inputs (the Secrets they name are checked on the cluster, in
    # test_tls_local.py) and the options that would turn certificate checks off.
    "unknown TLS mode": (
        {"matrix_tls_mode": "letsencrypt"},
        "synapse",
        ["matrix_tls_mode", "must be one of cert-manager, secret, none", "not letsencrypt"],
    ),
    "cert-manager mode without an issuer": (
        {"matrix_tls_mode": "cert-manager"},
        "synapse",
        ["matrix_cert_manager_issuer", "{name: <issuer name>"],
    ),
    "cert-manager issuer of an unknown kind": (
        {"matrix_tls_mode": "cert-manager", "matrix_cert_manager_issuer": {"name": "ca", "kind": "Acme"}},
        "synapse",
        ["matrix_cert_manager_issuer", "ClusterIssuer or Issuer"],
    ),
    "secret mode without a Secret for Synapse": (
        {"matrix_tls_mode": "secret"},
        "synapse",
        ["synapse_ingress_tls_secret", "kubernetes.io/tls"],
    ),
    "secret mode without a Secret for .well-known": (
        {"matrix_tls_mode": "secret", "synapse_ingress_tls_secret": "matrix-tls"},
        "well_known",
        ["well_known_ingress_tls_secret", "kubernetes.io/tls"],
    ),
    "two sources for the tls block": (
        {
            "matrix_tls_mode": "secret",
            "synapse_ingress_tls_secret": "x",
            "synapse_ingress_tls": [{"secretName": "y"}],
        },
        "synapse",
        ["synapse_ingress_tls is set", "matrix_tls_mode"],
    ),
    "federation CA from both a ConfigMap and a Secret": (
        {"matrix_federation_ca": {"configmap": "ca", "secret": "ca", "key": "ca.crt"}},
        "synapse",
        ["matrix_federation_ca", "{configmap: <name>, key: <key>}"],
    ),
    "federation_custom_ca_list beside matrix_federation_ca": (
        {
            "matrix_federation_ca": {"configmap": "ca", "key": "ca.crt"},
            "synapse_homeserver": {"federation_custom_ca_list": ["/x.pem"]},
        },
        "synapse",
        ["federation_custom_ca_list", "matrix_federation_ca"],
    ),
    "federation_verify_certificates false": (
        {"synapse_homeserver": {"federation_verify_certificates": False}},
        "synapse",
        ["synapse_homeserver", "'federation_verify_certificates'", "matrix_federation_ca"],
    ),
    "certificate verification whitelist": (
        {"synapse_homeserver": {"federation_certificate_verification_whitelist": ["*.example.org"]}},
        "synapse",
        ["synapse_homeserver", "'federation_certificate_verification_whitelist'", "turns off"],
    ),
    "insecure test client with strict mode off": (
        {
            "synapse_homeserver_strict": False,
            "synapse_homeserver": {"use_insecure_ssl_client_just_for_testing_do_not_use": True},
        },
        "synapse",
        ["synapse_homeserver", "'use_insecure_ssl_client_just_for_testing_do_not_use'", "turns off"],
    ),
    # Issue 16: email. The password's Secret itself is read in play 1 (test_email_local.py).
    "email without an SMTP host": (
        {"synapse_email": {"notif_from": "matrix@example.test"}},
        "synapse",
        ["synapse_email.smtp_host is required"],
    ),
    "email without a sender": (
        {"synapse_email": {"smtp_host": "smtp.example.test"}},
        "synapse",
        ["synapse_email.notif_from is required", "%(app)s <matrix@example.com>"],
    ),
    "email with a URL for a host": (
        {"synapse_email": {"smtp_host": "smtps://smtp.example.test", "notif_from": "m@example.test"}},
        "synapse",
        ["synapse_email.smtp_host must be a host name"],
    ),
    "email user without the password's Secret": (
        {
            "synapse_email": {
                "smtp_host": "smtp.example.test",
                "notif_from": "m@example.test",
                "smtp_user": "m",
            }
        },
        "synapse",
        ["synapse_email.smtp_user is set but synapse_email.smtp_pass_secret is not"],
    ),
    "email login without TLS": (
        {
            "synapse_email": {
                "smtp_host": "smtp.example.test",
                "notif_from": "m@example.test",
                "tls": "none",
                "smtp_user": "m",
                "smtp_pass_secret": {"secret": "smtp"},
            }
        },
        "synapse",
        ["synapse_email.tls is none but synapse_email.smtp_user is set", "unencrypted"],
    ),
}


def _refused_offline(extra_vars, tmp_path, unreachable_kubeconfig):
    """Run site.yml with extra_vars; it must fail without reaching for the cluster (no
    module of kubernetes.core, no read). Returns the run and the task that explains why."""
    run = run_playbook(
        "site.yml",
        extra_vars={"matrix_kubeconfig": str(unreachable_kubeconfig), **extra_vars},
        tmp_path=tmp_path,
    )
    assert run.returncode != 0
    # The merge runs in a no_log task (the merged file may hold secrets): its rescue explains.
    failed = run.explained_failure
    assert failed is not None, run.describe()
    assert "Cannot reach the Kubernetes API" not in run.stdout
    assert not [t for t in run.tasks if t.action.startswith("kubernetes.core.")], run.describe()
    assert not [t for t in run.tasks if "/tasks/read.yml" in t.path], run.describe()
    return run, failed


@pytest.mark.parametrize(("extra_vars", "role", "needles"), CASES.values(), ids=list(CASES))
def test_mistake_fails_in_validation(extra_vars, role, needles, tmp_path, unreachable_kubeconfig):
    run, failed = _refused_offline(extra_vars, tmp_path, unreachable_kubeconfig)
    assert f"matrixk8s.synapse.{role} :" in failed.name, run.describe()
    assert failed.path.split(":")[0].endswith(f"roles/{role}/tasks/validate.yml"), run.describe()
    # Every failed task is the role's validation (a failed merge and its explanation).
    assert all(
        t.path.split(":")[0].endswith(f"roles/{role}/tasks/validate.yml") for t in run.tasks if t.failed
    )
    for needle in needles:
        assert needle in failed.message, run.describe()


# Issue 12, finding 2: values a chart's schema refuses were accepted by the role and
# refused by Helm only after the role had written its Secrets. Each role now checks the
# values it would pass (roles/_common/tasks/check_chart_values.yml) in its validate step.
CHART_VALUE_CASES = {
    "synapse database port": (
        {"synapse_database_port": 70000},
        "synapse",
        "synapse_database_port (chart value database.port) must be at most 65535",
    ),
    "synapse chart value override": (
        {"synapse_chart_values": {"service": {"type": "Bogus"}}},
        "synapse",
        'synapse_chart_values.service.type must be one of "ClusterIP", "NodePort", "LoadBalancer"',
    ),
    "postgres port": (
        {"postgres_chart_values": {"service": {"port": 70000}}},
        "postgres",
        "postgres_chart_values.service.port must be at most 65535",
    ),
    "postgres misspelt chart value": (
        {"postgres_chart_values": {"persistense": {}}},
        "postgres",
        "postgres_chart_values.persistense is not a value of the postgres chart (did you mean persistence?)",
    ),
    "well-known port": (
        {"well_known_chart_values": {"service": {"port": 0}}},
        "well-known",
        "well_known_chart_values.service.port must be at least 1",
    ),
    "well-known resources": (
        {"well_known_resources": {"requests": {"cpu": "lots"}}},
        "well-known",
        "well_known_resources (chart value resources.requests.cpu) must match the pattern",
    ),
}


@pytest.mark.parametrize(
    ("extra_vars", "chart", "needle"), CHART_VALUE_CASES.values(), ids=list(CHART_VALUE_CASES)
)
def test_chart_values_out_of_schema_fail_in_validation(
    extra_vars, chart, needle, tmp_path, unreachable_kubeconfig
):
    run, failed = _refused_offline(extra_vars, tmp_path, unreachable_kubeconfig)
    assert failed.path.split(":")[0].endswith("roles/_common/tasks/check_chart_values.yml"), run.describe()
    assert failed.name.endswith(f"Check the values against the schema of chart {chart}"), failed.name
    assert needle in failed.message, failed.message
    assert f"the {chart} chart would refuse these values" in failed.message


def test_valid_input_passes_validation_then_stops_at_the_cluster_probe(tmp_path, unreachable_kubeconfig):
    """The positive control: the local inventory validates, then the probe explains itself."""
    run = run_playbook(
        "site.yml",
        extra_vars={"matrix_kubeconfig": str(unreachable_kubeconfig), "signing_key_value": GOOD_KEY},
        tmp_path=tmp_path,
    )
    assert run.returncode != 0
    probe = [t for t in run.tasks if "/roles/_common/tasks/read.yml" in t.path]
    assert probe, run.describe()
    # The read of the namespace's lock, the first of the run.
    assert probe[0].name.endswith(f"Read the lock (Lease matrixk8s-synapse-lock), in namespace {NAMESPACE}")
    assert probe[0].failed
    failed = [t for t in run.tasks if t.failed][-1]
    assert failed.action == "ansible.builtin.fail", run.describe()
    assert failed.path.split(":")[0].endswith("roles/_common/tasks/read.yml"), run.describe()
    assert failed.message.startswith("Cannot reach the Kubernetes API:"), failed.message
    assert "port=9" in failed.message
    assert "matrix_kubeconfig" in failed.message
    explained = [t for t in run.tasks if t.failed and t.action == "ansible.builtin.fail"]
    assert explained, run.describe()
    assert "Cannot reach the Kubernetes API" in explained[0].message
    assert str(unreachable_kubeconfig) in explained[0].message
    # Every role was validated before the first cluster access.
    validated = {
        t.name.split(" :")[0]
        for t in run.tasks[: run.tasks.index(probe[0])]
        # An include_role task (the misspelt-variable check) carries no role prefix.
        if "validate.yml" in t.path and t.action != "ansible.builtin.include_role"
    }
    assert validated == {
        f"matrixk8s.synapse.{r}" for r in ("postgres", "signing_key", "synapse", "well_known")
    }
    assert GOOD_KEY.split()[2] not in run.stdout + run.stderr


def test_missing_kubeconfig_is_explained(tmp_path):
    run = run_playbook(
        "site.yml",
        extra_vars={"matrix_kubeconfig": str(tmp_path / "no-such-kubeconfig")},
        tmp_path=tmp_path,
    )
    assert run.returncode != 0
    explained = [t for t in run.tasks if t.failed and t.action == "ansible.builtin.fail"]
    assert explained, run.describe()
    assert "Cannot reach the Kubernetes API" in explained[0].message
    assert "matrix_kubeconfig" in explained[0].message


@pytest.mark.parametrize("playbook", ["rotate_signing_key.yml"])
def test_other_playbooks_validate_first_too(playbook, tmp_path, unreachable_kubeconfig):
    run = run_playbook(
        playbook,
        extra_vars={
            "matrix_kubeconfig": str(unreachable_kubeconfig),
            "synapse_homeserver": {"enable_registraton": True},
        },
        tmp_path=tmp_path,
    )
    assert run.returncode != 0
    assert "did you mean enable_registration" in run.explained_failure.message, run.describe()
    assert not [t for t in run.tasks if t.action.startswith("kubernetes.core.")]


# Issue 12, "Further": a misspelt role variable was ignored silently.
MISSPELT = {
    "synapse_homserver": ({"synapse_homserver": {"enable_registration": True}}, "synapse_homeserver"),
    "postgres_storge_size": ({"postgres_storge_size": "5Gi"}, "postgres_storage_size"),
    "well_known_client_extras": ({"well_known_client_extras": {}}, "well_known_client_extra"),
    "signing_key_rotat": ({"signing_key_rotat": True}, "signing_key_rotate"),
}


@pytest.mark.parametrize(("extra_vars", "meant"), MISSPELT.values(), ids=list(MISSPELT))
def test_misspelt_role_variable_is_refused_with_did_you_mean(
    extra_vars, meant, tmp_path, unreachable_kubeconfig
):
    run, failed = _refused_offline(extra_vars, tmp_path, unreachable_kubeconfig)
    assert failed.path.split(":")[0].endswith("roles/_common/tasks/check_variables.yml"), run.describe()
    (name,) = extra_vars
    assert f"{name} (did you mean {meant}?)" in failed.message, failed.message


# Issue 16: the SMTP password is never a variable. Given inline, either way, the run stops in
# validation, names synapse_email.smtp_pass_secret and does not print the password.
SMTP_PASSWORD = "Inline-Smtp-Pa55-9731"
INLINE_PASSWORDS = {
    "email.smtp_pass in synapse_homeserver": (
        {"synapse_homeserver": {"email": {"smtp_host": "smtp.example.test", "smtp_pass": SMTP_PASSWORD}}},
        ["synapse_homeserver", "'email.smtp_pass'", "set synapse_email.smtp_pass_secret"],
    ),
    "email.smtp_pass in a YAML string": (
        {"synapse_homeserver": f"email:\n  smtp_pass: {SMTP_PASSWORD}\n"},
        ["'email.smtp_pass'", "synapse_email.smtp_pass_secret"],
    ),
    "synapse_email.smtp_pass": (
        {
            "synapse_email": {
                "smtp_host": "smtp.example.test",
                "notif_from": "m@example.test",
                "smtp_pass": SMTP_PASSWORD,
            }
        },
        ["synapse_email.smtp_pass: the SMTP password does not go into the inventory", "smtp_pass_secret"],
    ),
}


@pytest.mark.parametrize(("extra_vars", "needles"), INLINE_PASSWORDS.values(), ids=list(INLINE_PASSWORDS))
def test_an_inline_smtp_password_is_refused_without_printing_it(
    extra_vars, needles, tmp_path, unreachable_kubeconfig
):
    run, failed = _refused_offline(extra_vars, tmp_path, unreachable_kubeconfig)
    assert failed.path.split(":")[0].endswith("roles/synapse/tasks/validate.yml"), run.describe()
    for needle in needles:
        assert needle in failed.message, failed.message
    assert SMTP_PASSWORD not in run.stdout + run.stderr
