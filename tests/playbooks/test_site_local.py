"""site.yml, rotate_signing_key.yml and uninstall.yml against the project's local cluster.

Skipped unless dev/cluster/up.sh is running (kubeconfig .local/kubeconfig). The cluster
is kwok-based: Deployments and StatefulSets become Ready and Jobs complete, but no
container runs, so these tests check what the roles put into the API (Secrets, values,
annotations, ordering) and how the playbooks behave on a second run; a real Synapse reads
the same homeserver.yaml in tests/integration.

The tests share one deployment, made from an empty namespace (a module before it in its
chain, CHAINS in conftest.py, ends with a purge; otherwise this one purges first), and run in
file order: the last ones rotate the key, uninstall and purge. Under pytest-xdist they run
only with --dist loadfile (or loadgroup), which keeps the file on one worker; with plain -n
they skip.
"""

import base64
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys

import pytest
import yaml
from playbooklib import (
    ANSIBLE_PLAYBOOK,
    NAMESPACE,
    REPO,
    purge,
    put_object,
    releases_the_lock,
    run_playbook,
)
from volumes import return_released_volumes

# The tests of this module share one deployment (conftest.one_deployment).
pytestmark = pytest.mark.usefixtures("one_deployment")
PART_OF = "app.kubernetes.io/part-of=matrixk8s-synapse"


def _secret_data(core, name):
    secret = core.read_namespaced_secret(name, NAMESPACE)
    return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}


def _config_secret_name(core):
    """homeserver.yaml's Secret (content-addressed: synapse-config-<digest>): the one the
    Deployment's pod template mounts at /config."""
    from kubernetes import client

    spec = (
        client.AppsV1Api(core.api_client).read_namespaced_deployment("synapse", NAMESPACE).spec.template.spec
    )
    return next(v.secret.secret_name for v in spec.volumes if v.name == "config")


def _config_data(core):
    return _secret_data(core, _config_secret_name(core))


def _secret_or_none(core, name):
    from kubernetes.client.exceptions import ApiException

    try:
        return _secret_data(core, name)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _secret_values(core):
    """Every secret value the deployment holds, raw and base64-encoded."""
    values = set()
    pg = _secret_data(core, "synapse-postgres-password")["password"]
    values.add(pg)
    key_line = _secret_data(core, "synapse-signing-key")["signing.key"].strip()
    values.add(key_line.split()[2])  # the private seed
    values.update(_secret_data(core, "synapse-secrets").values())
    admin = _secret_or_none(core, "synapse-admin-admin")
    if admin:
        values.add(admin["password"])
    return {v for v in values if v} | {base64.b64encode(v.encode()).decode() for v in values if v}


def _leaks(text, secrets):
    return sorted(s[:6] + "..." for s in secrets if s in text)


@pytest.fixture(scope="module")
def deployment(core, tmp_path_factory):
    """site.yml twice against inventories/local, the first from an empty namespace (so it
    generates every secret); returns both runs and the key after each."""
    purge(core)
    first = run_playbook("site.yml")
    assert first.returncode == 0, first.describe()
    key_after_first = _secret_data(core, "synapse-signing-key")["signing.key"]
    second = run_playbook("site.yml")
    assert second.returncode == 0, second.describe()
    key_after_second = _secret_data(core, "synapse-signing-key")["signing.key"]
    return {"first": first, "second": second, "keys": (key_after_first, key_after_second)}


def test_second_run_changes_nothing(deployment):
    second = deployment["second"]
    changed = [t.name for t in second.tasks if t.changed]
    assert second.changed == 0, changed


def test_second_run_calls_no_module_of_kubernetes_core(deployment):
    """Nothing to change: every read is one in-process lookup per role, every helm and k8s
    task is skipped (each would start a Python process and several helm commands)."""
    second = deployment["second"]
    # Except the release of the namespace's lock (roles/_common/tasks/unlock.yml): deleting
    # the run's Lease is a write, and only a module writes.
    ran = [
        f"{t.name} ({t.action})"
        for t in second.tasks
        if t.action.startswith("kubernetes.core.")
        and not t.result.get("skipped")
        and "/roles/_common/tasks/unlock.yml" not in t.path
    ]
    assert not ran
    released = [
        t
        for t in second.tasks
        if "/roles/_common/tasks/unlock.yml" in t.path and t.action == "kubernetes.core.k8s"
    ]
    assert len(released) == 1, released
    assert not released[0].result.get("skipped"), released
    assert "helm diff" not in second.stdout + second.stderr
    reads = [
        t.name
        for t in second.tasks
        if "/roles/_common/tasks/read.yml" in t.path
        and " : Read the " in t.name
        and "Read the lock" not in t.name
        and not t.result.get("skipped")
    ]
    # One per role: postgres and signing_key in site.yml's first play, synapse and
    # well_known in the second, right before they write. Nothing is read twice.
    assert len(reads) == 4, reads


def test_homeserver_yaml_is_merged_once_per_run(deployment, core):
    """synapse_homeserver is merged once (validate.yml, with placeholders for what lives in
    the cluster); apply.yml only puts the real values into the merged mapping. The filter
    announces each call at -vvvv (plugins/filter/homeserver.py): exactly one line."""
    run = run_playbook("site.yml", args=["-vvvv"], json_output=False)
    assert run.returncode == 0, run.stdout[-3000:]
    merges = run.stdout.count("matrixk8s.synapse.homeserver_merge: merging homeserver.yaml")
    assert merges == 1, merges
    assert not _leaks(run.stdout + run.stderr, _secret_values(core))
    config = yaml.safe_load(_config_data(core)["homeserver.yaml"])
    assert (
        config["database"]["args"]["password"] == _secret_data(core, "synapse-postgres-password")["password"]
    )
    assert "<the password in Secret" not in _config_data(core)["homeserver.yaml"]


def test_the_merge_count_counts_every_call(tmp_path):
    """The negative control of the count above: two merges in a play print two lines."""
    play = tmp_path / "two-merges.yml"
    play.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.debug:\n"
        '        msg: "{{ {} | matrixk8s.synapse.homeserver_merge({}) }}'
        ' {{ {} | matrixk8s.synapse.homeserver_merge({}) }}"\n'
    )
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, str(play), "-vvvv"],
        cwd=REPO,
        env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(REPO / "playbooks" / "collections")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout.count("matrixk8s.synapse.homeserver_merge: merging homeserver.yaml") == 2


def test_signing_key_survives_a_second_run(deployment):
    first, second = deployment["keys"]
    assert first == second
    assert re.fullmatch(r"ed25519 a_[A-Za-z0-9_]+ [A-Za-z0-9+/]{43}\n?", first)


def test_only_the_public_key_is_shown(deployment, core):
    from ansible_collections.matrixk8s.synapse.plugins.module_utils import signing_key

    line = _secret_data(core, "synapse-signing-key")["signing.key"].strip()
    shown = [t.message for t in deployment["second"].tasks if t.name.endswith("Show the public key")]
    assert shown
    assert signing_key.signing_key_verify_key(line) in shown[0]
    assert signing_key.signing_key_id(line) in shown[0]


def test_no_secret_in_json_output(deployment, core):
    """The JSON callback prints every result in full, more than -v does."""
    secrets = _secret_values(core)
    for run in (deployment["first"], deployment["second"]):
        assert not _leaks(run.stdout + run.stderr, secrets)


def test_verbose_run_prints_no_secret_and_changes_nothing(deployment, core):
    run = run_playbook("site.yml", args=["-v"], json_output=False)
    assert run.returncode == 0, run.stdout[-3000:]
    assert not _leaks(run.stdout + run.stderr, _secret_values(core))
    assert re.search(r"localhost\s*:\s*ok=\d+\s+changed=0\s", run.stdout), run.stdout[-1500:]


def test_check_and_diff_change_nothing_and_print_no_secret(deployment, core):
    run = run_playbook("site.yml", args=["--check", "--diff", "-v"], json_output=False)
    assert run.returncode == 0, run.stdout[-3000:]
    assert not _leaks(run.stdout + run.stderr, _secret_values(core))
    assert re.search(r"localhost\s*:\s*ok=\d+\s+changed=0\s", run.stdout), run.stdout[-1500:]


def test_homeserver_yaml_holds_the_role_settings_and_the_overrides(deployment, core):
    config = yaml.safe_load(_config_data(core)["homeserver.yaml"])
    # Role-owned.
    assert config["server_name"] == "example.test"
    assert config["public_baseurl"] == "https://matrix.example.test/"
    assert config["report_stats"] is False
    assert config["signing_key_path"] == "/secrets/signing-key/signing.key"
    assert config["media_store_path"] == "/data/media_store"
    for name in ("registration_shared_secret", "macaroon_secret_key", "form_secret"):
        assert config[f"{name}_path"] == f"/secrets/synapse/{name}"
        assert name not in config
    listeners = {listener["port"]: listener for listener in config["listeners"]}
    assert listeners[8008]["x_forwarded"] is True
    assert listeners[8008]["resources"][0]["names"] == ["client", "federation"]
    assert listeners[8080]["resources"][0]["names"] == ["health"]
    db = config["database"]
    assert db["name"] == "psycopg2"
    assert db["args"]["host"] == f"synapse-postgres.{NAMESPACE}.svc.cluster.local"
    assert db["args"]["port"] == 5432
    assert db["args"]["password"] == _secret_data(core, "synapse-postgres-password")["password"]
    # The inventory's synapse_homeserver, as written.
    assert config["enable_registration"] is False
    assert config["url_preview_enabled"] is True
    assert "10.0.0.0/8" in config["url_preview_ip_range_blacklist"]
    assert config["max_upload_size"] == "100M"
    assert config["retention"]["default_policy"]["max_lifetime"] == "1y"
    assert config["rc_message"] == {"per_second": 0.5, "burst_count": 15}
    assert config["rc_login"]["address"]["burst_count"] == 5
    assert config["trusted_key_servers"] == [{"server_name": "matrix.org"}]


def test_synapse_accepts_the_homeserver_yaml(deployment, core, tmp_path):
    """Synapse's own config parser reads the stored file (paths pointed at local copies)."""
    text = _config_data(core)["homeserver.yaml"]
    (tmp_path / "signing.key").write_text(_secret_data(core, "synapse-signing-key")["signing.key"])
    for name, value in _secret_data(core, "synapse-secrets").items():
        (tmp_path / name).write_text(value)
    (tmp_path / "media").mkdir()
    text = text.replace("/secrets/signing-key/", f"{tmp_path}/").replace("/secrets/synapse/", f"{tmp_path}/")
    text = text.replace("/data/media_store", f"{tmp_path}/media")
    (tmp_path / "homeserver.yaml").write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "synapse.config", "-c", str(tmp_path / "homeserver.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_config_checksum_rolls_the_pod(deployment, core, apps):
    text = _config_data(core)["homeserver.yaml"]
    deploy = apps.read_namespaced_deployment("synapse", NAMESPACE)
    annotation = deploy.spec.template.metadata.annotations["checksum/config"]
    assert annotation == hashlib.sha256(text.encode()).hexdigest()


def test_secrets_the_roles_create_are_labelled_and_hold_the_contract_keys(deployment, core):
    secrets = {
        s.metadata.name: s for s in core.list_namespaced_secret(NAMESPACE, label_selector=PART_OF).items
    }
    expected = {
        "synapse-postgres-password",
        "synapse-signing-key",
        "synapse-secrets",
        _config_secret_name(core),
    }
    assert expected <= set(secrets)
    assert set(_secret_data(core, "synapse-secrets")) == {
        "registration_shared_secret",
        "macaroon_secret_key",
        "form_secret",
    }
    assert set(_secret_data(core, "synapse-signing-key")) == {"signing.key", "old_signing_keys.yaml"}
    assert set(_config_data(core)) == {"homeserver.yaml"}
    # Synapse's role and the superuser's (issue 12: Synapse is no superuser).
    assert set(_secret_data(core, "synapse-postgres-password")) == {"password", "superuser-password"}


def test_postgres_was_ready_before_synapse_was_created(deployment, core, apps):
    pod = core.read_namespaced_pod("synapse-postgres-0", NAMESPACE)
    ready = next(c for c in pod.status.conditions if c.type == "Ready")
    assert ready.status == "True"
    synapse = apps.read_namespaced_deployment("synapse", NAMESPACE)
    assert ready.last_transition_time <= synapse.metadata.creation_timestamp


def test_well_known_documents(deployment, core):
    cm = core.read_namespaced_config_map("well-known", NAMESPACE).data
    assert json.loads(cm["server.json"]) == {"m.server": "matrix.example.test:443"}
    client = json.loads(cm["client.json"])
    assert client["m.homeserver"]["base_url"] == "https://matrix.example.test"
    assert client["org.matrix.msc4143.rtc_foci"] == [
        {"type": "livekit", "livekit_service_url": "https://livekit-jwt.example.test"}
    ]
    support = json.loads(cm["support.json"])
    assert support["contacts"][0]["matrix_id"] == "@admin:example.test"


def test_admin_user_registered_once(deployment, core, local_cluster):
    from kubernetes import client

    record = core.read_namespaced_config_map("synapse-admin-users", NAMESPACE).data
    assert set(record) == {"admin", "admin.password-hmac"}
    assert record["admin"] == "admin"
    password = _secret_data(core, "synapse-admin-admin")["password"]
    assert len(password) >= 24
    assert record["admin.password-hmac"].startswith("hmac-sha256:")
    assert password not in json.dumps(record)
    jobs = client.BatchV1Api(local_cluster).list_namespaced_job(NAMESPACE, label_selector=PART_OF).items
    assert not [j.metadata.name for j in jobs if j.metadata.deletion_timestamp is None]
    registered = [t for t in deployment["second"].tasks if "register_new_matrix_user" in t.name]
    assert not registered, "the second run must not register again"


def test_missing_namespace_fails_in_preflight(deployment, tmp_path):
    run = run_playbook("site.yml", extra_vars={"matrix_namespace": "no-such-namespace"}, tmp_path=tmp_path)
    assert run.returncode != 0
    assert "Namespace no-such-namespace does not exist" in run.failed_task.message, run.describe()
    assert "roles/_common/tasks/read.yml" in run.failed_task.path
    assert run.changed == 0


def test_external_database_without_password_secret_fails_in_preflight(deployment, tmp_path):
    run = run_playbook(
        "site.yml",
        extra_vars={
            "matrix_postgres_enabled": False,
            "synapse_database_host": "db.example.internal",
            "synapse_database_password_secret_name": "cloudsql-password",
        },
        tmp_path=tmp_path,
    )
    assert run.returncode != 0
    failed = run.failed_task
    assert "roles/synapse/tasks/read.yml" in failed.path, run.describe()
    assert "cloudsql-password" in failed.message
    assert "does not exist" in failed.message
    assert run.changed == 0


def test_conflicting_signing_key_value_fails_and_keeps_the_stored_key(deployment, core, tmp_path):
    from ansible_collections.matrixk8s.synapse.plugins.module_utils import signing_key

    stored = _secret_data(core, "synapse-signing-key")["signing.key"]
    other = signing_key.signing_key_generate()
    run = run_playbook("site.yml", extra_vars={"signing_key_value": other}, tmp_path=tmp_path)
    assert run.returncode != 0
    failed = run.failed_task
    assert "roles/signing_key/tasks/read.yml" in failed.path, run.describe()
    assert signing_key.signing_key_id(other) in failed.message
    assert "never replaces a stored key" in failed.message
    assert other.split()[2] not in run.stdout + run.stderr
    assert run.changed == 0
    assert _secret_data(core, "synapse-signing-key")["signing.key"] == stored


def test_postgres_timeout_stops_the_run_with_a_clear_message(deployment, tmp_path):
    """A release that cannot be Ready (no node matches its selector): the role explains, and
    Synapse is not touched. The selector keeps this deterministic: a bare 1s timeout alone
    was sometimes met on a fast simulated node."""
    release = "pg-timeout-test"
    try:
        run = run_playbook(
            "site.yml",
            extra_vars={
                "postgres_release_name": release,
                "postgres_wait_timeout": "1s",
                "postgres_persistence_enabled": False,
                "postgres_node_selector": {"matrixk8s.test/no-such-node": "true"},
            },
            tmp_path=tmp_path,
        )
        assert run.returncode != 0
        failed = [t for t in run.tasks if t.failed]
        assert failed[-1].action == "ansible.builtin.fail", run.describe()
        assert f"PostgreSQL did not become Ready within 1s (release {release}" in failed[-1].message
        assert f"kubectl -n {NAMESPACE} describe pod {release}-0" in failed[-1].message
        assert "Synapse is not deployed" in failed[-1].message
        # Nothing after it but the release of the namespace's lock.
        after = [t for t in run.tasks[run.tasks.index(failed[-1]) + 1 :] if not releases_the_lock(t)]
        assert not after, [t.name for t in after]
        assert not [t for t in run.tasks if "roles/synapse/tasks/apply.yml" in t.path]
        assert not [t for t in run.tasks if t.name.endswith("as release synapse")]
    finally:
        subprocess.run(
            [
                str(REPO / ".local/bin/helm"),
                "--kubeconfig",
                str(REPO / ".local/kubeconfig"),
                "-n",
                NAMESPACE,
                "uninstall",
                release,
                "--wait",
            ],
            capture_output=True,
            check=False,
        )


# ---- Lifecycle: these change the deployment and must run last, in this order. ----


def test_rotation_keeps_the_old_key_verifiable(deployment, core, apps):
    from ansible_collections.matrixk8s.synapse.plugins.module_utils import signing_key

    before = _secret_data(core, "synapse-signing-key")["signing.key"].strip()
    checksum_before = apps.read_namespaced_deployment("synapse", NAMESPACE).spec.template.metadata.annotations
    old_pods = {
        p.metadata.name
        for p in core.list_namespaced_pod(
            NAMESPACE, label_selector="app.kubernetes.io/instance=synapse"
        ).items
    }
    assert old_pods
    started = datetime.datetime.now(datetime.UTC).timestamp() * 1000
    run = run_playbook("rotate_signing_key.yml")
    assert run.returncode == 0, run.describe()
    finished = datetime.datetime.now(datetime.UTC).timestamp() * 1000
    # The pods that signed with the old key stopped before the run ended (it waits for
    # that), so an expired_ts not before the end is not before their last signature.
    now_pods = {
        p.metadata.name
        for p in core.list_namespaced_pod(
            NAMESPACE, label_selector="app.kubernetes.io/instance=synapse"
        ).items
    }
    assert not old_pods & now_pods
    data = _secret_data(core, "synapse-signing-key")
    after = data["signing.key"].strip()
    assert signing_key.signing_key_id(after) != signing_key.signing_key_id(before)
    old = yaml.safe_load(data["old_signing_keys.yaml"])
    entry = old[signing_key.signing_key_id(before)]
    assert entry["key"] == signing_key.signing_key_verify_key(before)
    # Not before the old pods stopped; at most the bound the playbook computes from the
    # moment it stored the new key (during the run): Helm's wait (synapse_wait_timeout 3m in
    # inventories/local), the grace period (60 s) and 2 minutes.
    assert started < finished <= entry["expired_ts"] <= finished + (180 + 60 + 120) * 1000
    config = yaml.safe_load(_config_data(core)["homeserver.yaml"])
    assert config["old_signing_keys"] == old
    checksum_after = apps.read_namespaced_deployment("synapse", NAMESPACE).spec.template.metadata.annotations
    assert checksum_after["checksum/config"] != checksum_before["checksum/config"]
    # And the next ordinary run keeps the new key and changes nothing.
    again = run_playbook("site.yml")
    assert again.returncode == 0, again.describe()
    assert again.changed == 0, [t.name for t in again.tasks if t.changed]
    assert _secret_data(core, "synapse-signing-key")["signing.key"].strip() == after


# Issue 13: the TLS inputs on a converged deployment. Two upgrades of the deployment above,
# cert-manager mode then secret mode, each with a federation CA; the next test's runs bring
# the inventory's defaults (matrix_tls_mode none, no CA) back.
SYNAPSE_HOST, APEX_HOST = "matrix.example.test", "example.test"
CA_PATHS = ["/federation-ca/ca.crt"]


def _ingress_tls(local_cluster, name):
    from kubernetes import client

    ingress = client.NetworkingV1Api(local_cluster).read_namespaced_ingress(name, NAMESPACE)
    tls = [{"hosts": t.hosts, "secretName": t.secret_name} for t in ingress.spec.tls or []]
    return ingress.metadata.annotations or {}, tls


def _ca_volume(apps):
    spec = apps.read_namespaced_deployment("synapse", NAMESPACE).spec.template.spec
    mounts = [
        m.mount_path for c in spec.containers if c.name == "synapse" for m in c.volume_mounts if m.read_only
    ]
    volumes = [v for v in spec.volumes if v.name == "federation-ca"]
    return ("/federation-ca" in mounts), volumes[0] if volumes else None


def _ca_header_line(ca_pem: bytes) -> str:
    """homeserver.yaml's header line naming the CA: a line of its own (the first option must
    not be swallowed into the comment)."""
    digest = hashlib.sha256(ca_pem).hexdigest()
    return f"# federation_custom_ca_list: ConfigMap federation-ca, key ca.crt, sha256 {digest}"


def test_tls_cert_manager_mode_and_a_federation_ca(deployment, core, apps, local_cluster, tmp_path):
    from tlscerts import make_ca

    ca_pem, _ = make_ca("first federation CA")
    put_object(core, "ConfigMap", "federation-ca", {"data": {"ca.crt": ca_pem.decode()}})
    run = run_playbook(
        "site.yml",
        extra_vars={
            "matrix_tls_mode": "cert-manager",
            "matrix_cert_manager_issuer": {"name": "matrixk8s-ca", "kind": "ClusterIssuer"},
            "matrix_federation_ca": {"configmap": "federation-ca", "key": "ca.crt"},
        },
        tmp_path=tmp_path,
    )
    assert run.returncode == 0, run.describe()
    for name, host in (("synapse", SYNAPSE_HOST), ("well-known", APEX_HOST)):
        annotations, tls = _ingress_tls(local_cluster, name)
        assert annotations.get("cert-manager.io/cluster-issuer") == "matrixk8s-ca", name
        assert "cert-manager.io/issuer" not in annotations
        assert tls == [{"hosts": [host], "secretName": f"{name}-tls"}]
    text = _config_data(core)["homeserver.yaml"]
    assert yaml.safe_load(text)["federation_custom_ca_list"] == CA_PATHS
    assert _ca_header_line(ca_pem) in text.splitlines()
    mounted, volume = _ca_volume(apps)
    assert mounted
    assert volume.config_map.name == "federation-ca"
    assert [(i.key, i.path) for i in volume.config_map.items] == [("ca.crt", "ca.crt")]


def test_tls_secret_mode_and_a_new_ca_rolls_synapse(deployment, core, apps, local_cluster, tmp_path):
    """The Secrets the user made serve both hosts; a new CA in the same ConfigMap is a new
    homeserver.yaml (its header names the CA's digest), so Synapse rolls as on any change."""
    from tlscerts import make_ca, make_leaf

    ca_pem, ca = make_ca("second federation CA")
    for secret, host in (("matrix-tls", SYNAPSE_HOST), ("apex-tls", APEX_HOST)):
        cert, key = make_leaf(ca, [host])
        data = {"tls.crt": base64.b64encode(cert).decode(), "tls.key": base64.b64encode(key).decode()}
        put_object(core, "Secret", secret, {"type": "kubernetes.io/tls", "data": data})
    put_object(core, "ConfigMap", "federation-ca", {"data": {"ca.crt": ca_pem.decode()}})
    before = apps.read_namespaced_deployment("synapse", NAMESPACE).spec.template.metadata.annotations
    run = run_playbook(
        "site.yml",
        extra_vars={
            "matrix_tls_mode": "secret",
            "synapse_ingress_tls_secret": "matrix-tls",
            "well_known_ingress_tls_secret": "apex-tls",
            "matrix_federation_ca": {"configmap": "federation-ca", "key": "ca.crt"},
        },
        tmp_path=tmp_path,
    )
    assert run.returncode == 0, run.describe()
    for name, host, secret in (
        ("synapse", SYNAPSE_HOST, "matrix-tls"),
        ("well-known", APEX_HOST, "apex-tls"),
    ):
        annotations, tls = _ingress_tls(local_cluster, name)
        assert not [a for a in annotations if a.startswith("cert-manager.io/")], annotations
        assert tls == [{"hosts": [host], "secretName": secret}]
    text = _config_data(core)["homeserver.yaml"]
    assert yaml.safe_load(text)["federation_custom_ca_list"] == CA_PATHS
    assert _ca_header_line(ca_pem) in text.splitlines()
    after = apps.read_namespaced_deployment("synapse", NAMESPACE).spec.template.metadata.annotations
    assert after["checksum/config"] != before["checksum/config"]
    # Synapse checked the new file (with the CA mounted) before Helm rolled it out.
    assert [t for t in run.tasks if "Run python -m synapse.config on the new homeserver.yaml" in t.name]
    # The user's objects, which no run of ours removes; the next test's runs stop using them.
    for secret in ("matrix-tls", "apex-tls"):
        core.delete_namespaced_secret(secret, NAMESPACE)
    core.delete_namespaced_config_map("federation-ca", NAMESPACE)


def test_well_known_mode_synapse_and_back(deployment, core, local_cluster, tmp_path):
    from kubernetes import client

    net = client.NetworkingV1Api(local_cluster)
    run = run_playbook("site.yml", extra_vars={"matrix_well_known_mode": "synapse"}, tmp_path=tmp_path)
    assert run.returncode == 0, run.describe()
    ingress = net.read_namespaced_ingress("well-known-synapse", NAMESPACE)
    rule = ingress.spec.rules[0]
    assert rule.host == "example.test"
    # Synapse's /server document sends other servers to the apex host itself, port 443.
    assert [p.path for p in rule.http.paths] == ["/.well-known/matrix", "/_matrix/federation", "/_matrix/key"]
    for path in rule.http.paths:
        assert (path.backend.service.name, path.backend.service.port.number) == ("synapse", 8008)
    config = yaml.safe_load(_config_data(core)["homeserver.yaml"])
    assert config["serve_server_wellknown"] is True
    assert not core.list_namespaced_config_map(
        NAMESPACE, label_selector="app.kubernetes.io/instance=well-known"
    ).items
    back = run_playbook("site.yml")
    assert back.returncode == 0, back.describe()
    assert not net.list_namespaced_ingress(NAMESPACE, field_selector="metadata.name=well-known-synapse").items
    assert core.read_namespaced_config_map("well-known", NAMESPACE).data["server.json"]
    config = yaml.safe_load(_config_data(core)["homeserver.yaml"])
    assert config["serve_server_wellknown"] is False


def test_uninstall_keeps_identity_and_data_and_site_brings_it_back(deployment, core):
    key = _secret_data(core, "synapse-signing-key")["signing.key"]
    secrets = _secret_data(core, "synapse-secrets")
    password = _secret_data(core, "synapse-postgres-password")
    run = run_playbook("uninstall.yml")
    assert run.returncode == 0, run.describe()
    helm = subprocess.run(
        [
            str(REPO / ".local/bin/helm"),
            "--kubeconfig",
            str(REPO / ".local/kubeconfig"),
            "-n",
            NAMESPACE,
            "list",
            "-q",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert not {"synapse", "synapse-postgres", "well-known"} & set(helm.stdout.split())
    assert _secret_data(core, "synapse-signing-key")["signing.key"] == key
    assert _secret_data(core, "synapse-secrets") == secrets
    assert _secret_data(core, "synapse-postgres-password") == password
    # homeserver.yaml's Secrets go too: tests/playbooks/test_config_rollout_local.py.
    pvcs = {p.metadata.name for p in core.list_namespaced_persistent_volume_claim(NAMESPACE).items}
    assert {"data-synapse-postgres-0", "synapse-media"} <= pvcs
    back = run_playbook("site.yml")
    assert back.returncode == 0, back.describe()
    assert _secret_data(core, "synapse-signing-key")["signing.key"] == key
    assert _secret_data(core, "synapse-secrets") == secrets


def test_purge_leaves_nothing_of_ours(deployment, core):
    run = run_playbook("uninstall.yml", args=["-e", "purge=true"])
    assert run.returncode == 0, run.describe()
    assert not core.list_namespaced_secret(NAMESPACE, label_selector=PART_OF).items
    assert not core.list_namespaced_config_map(NAMESPACE, label_selector=PART_OF).items
    for release in ("synapse", "synapse-postgres", "well-known"):
        selector = f"app.kubernetes.io/instance={release}"
        assert not [
            p.metadata.name
            for p in core.list_namespaced_persistent_volume_claim(NAMESPACE, label_selector=selector).items
            if p.metadata.deletion_timestamp is None
        ]
        assert not core.list_namespaced_secret(NAMESPACE, label_selector=f"name={release},owner=helm").items
    # What the charts rendered carries the same label: none of it is left either.
    from kubernetes import client

    apps = client.AppsV1Api(core.api_client)
    net = client.NetworkingV1Api(core.api_client)
    left = [
        f"{kind}/{o.metadata.name}"
        for kind, items in (
            ("Deployment", apps.list_namespaced_deployment(NAMESPACE, label_selector=PART_OF).items),
            ("StatefulSet", apps.list_namespaced_stateful_set(NAMESPACE, label_selector=PART_OF).items),
            ("Service", core.list_namespaced_service(NAMESPACE, label_selector=PART_OF).items),
            ("Ingress", net.list_namespaced_ingress(NAMESPACE, label_selector=PART_OF).items),
            ("PVC", core.list_namespaced_persistent_volume_claim(NAMESPACE, label_selector=PART_OF).items),
        )
        for o in items
        if o.metadata.deletion_timestamp is None
    ]
    assert not left


@pytest.fixture(autouse=True, scope="module")
def _return_released_volumes(core):
    """After the module: hand the volumes our purge released back to the local cluster's pool."""
    yield
    return_released_volumes(core, NAMESPACE)
