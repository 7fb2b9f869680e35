"""Email on and off again with site.yml, the SMTP password never shown (issue 16).

One converge after another in the worker's namespace (the "converged" chain of
conftest.py: it starts from whatever the namespace holds and leaves it converged):
1. synapse_email names a Secret that does not exist: refused in play 1 (read_email.yml),
   nothing written;
2. the Secret exists: email on, run with --diff as a terminal shows it;
3. the same again: changed=0, and so in --check --diff;
4. a new password in the Secret: a new homeserver.yaml, the Deployment rolls;
5. synapse_email removed: email off, homeserver.yaml has no email section.
In every run's output, in every ConfigMap, in Helm's release records and in the
Deployment there is no password; homeserver.yaml's Secret holds the current one.

Skipped unless dev/cluster/up.sh is running.
"""

import base64
import contextlib
import gzip
import json
import secrets

import pytest
import yaml
from kubernetes.client.exceptions import ApiException
from playbooklib import NAMESPACE, namespace_state, put_object, run_playbook

pytestmark = pytest.mark.usefixtures("one_deployment")

SECRET = "smtp-password"
EMAIL = {
    "smtp_host": "smtp.example.test",
    "smtp_user": "matrix",
    "smtp_pass_secret": {"secret": SECRET, "key": "password"},
    "notif_from": "%(app)s <matrix@example.test>",
}


def _password():
    return "smtp-" + secrets.token_urlsafe(18)


def _put_password(core, password):
    put_object(core, "Secret", SECRET, {"stringData": {"password": password + "\n"}})


def _mounted_homeserver(core, apps):
    spec = apps.read_namespaced_deployment("synapse", NAMESPACE).spec.template.spec
    name = next(v.secret.secret_name for v in spec.volumes if v.name == "config")
    secret = core.read_namespaced_secret(name, NAMESPACE)
    return name, yaml.safe_load(base64.b64decode(secret.data["homeserver.yaml"]).decode())


def _helm_records(core):
    """Every Helm release record of the namespace, decoded (base64, base64, gzip)."""
    out = []
    for secret in core.list_namespaced_secret(NAMESPACE, label_selector="owner=helm").items:
        raw = base64.b64decode(base64.b64decode(secret.data["release"]))
        out.append(gzip.decompress(raw).decode())
    return out


def _not_stored_in_plain_objects(core, apps, password):
    for config_map in core.list_namespaced_config_map(NAMESPACE).items:
        assert password not in json.dumps(config_map.data or {}), f"ConfigMap {config_map.metadata.name}"
    for record in _helm_records(core):
        assert password not in record, "a Helm release record"
    deployment = apps.read_namespaced_deployment("synapse", NAMESPACE)
    assert password not in json.dumps(deployment.to_dict(), default=str)


def _not_printed(run, password):
    assert password not in run.stdout + run.stderr
    # Nor as base64 (a Secret's data), nor without its first or last character.
    assert base64.b64encode(password.encode()).decode()[:16] not in run.stdout + run.stderr
    assert password[1:-1] not in run.stdout + run.stderr


@pytest.fixture(scope="module")
def runs(core, apps, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("email")
    out = {}
    with contextlib.suppress(ApiException):  # absent is what the first run needs
        core.delete_namespaced_secret(SECRET, NAMESPACE)
    before = namespace_state(core, apps, NAMESPACE)
    missing = run_playbook("site.yml", extra_vars={"synapse_email": EMAIL}, tmp_path=tmp)
    out["missing"] = (missing, before, namespace_state(core, apps, NAMESPACE))

    first, second = _password(), _password()
    _put_password(core, first)
    out["on"] = run_playbook(
        "site.yml", extra_vars={"synapse_email": EMAIL}, args=["--diff"], tmp_path=tmp, json_output=False
    )
    out["on_config"] = _mounted_homeserver(core, apps)
    out["again"] = run_playbook(
        "site.yml", extra_vars={"synapse_email": EMAIL}, args=["--diff"], tmp_path=tmp
    )
    out["again_config"] = _mounted_homeserver(core, apps)
    out["check"] = run_playbook(
        "site.yml", extra_vars={"synapse_email": EMAIL}, args=["--check", "--diff"], tmp_path=tmp
    )
    _not_stored_in_plain_objects(core, apps, first)

    _put_password(core, second)
    out["rotated"] = run_playbook(
        "site.yml", extra_vars={"synapse_email": EMAIL}, args=["--diff"], tmp_path=tmp
    )
    out["rotated_config"] = _mounted_homeserver(core, apps)
    _not_stored_in_plain_objects(core, apps, second)

    out["off"] = run_playbook("site.yml", args=["--diff"], tmp_path=tmp)
    out["off_config"] = _mounted_homeserver(core, apps)
    out["passwords"] = (first, second)
    yield out
    core.delete_namespaced_secret(SECRET, NAMESPACE)


def test_a_missing_password_secret_is_refused_in_play_1(runs, core, apps):
    run, before, after = runs["missing"]
    assert run.returncode != 0
    failed = run.explained_failure
    assert failed is not None, run.describe()
    assert failed.path.split(":")[0].endswith("roles/synapse/tasks/read_email.yml"), run.describe()
    assert failed.message.startswith(
        f"synapse_email.smtp_pass_secret: Secret {SECRET} in namespace {NAMESPACE} does not exist."
    ), failed.message
    assert f"kubectl -n {NAMESPACE} create secret generic {SECRET} --from-literal=password=" in failed.message
    # Play 1 only: nothing of the namespace was written.
    assert after == before
    assert not [t for t in run.tasks if "/tasks/apply.yml" in t.path], run.describe()


def test_email_on_puts_the_section_and_the_password_into_homeservers_secret(runs):
    assert runs["on"].returncode == 0, runs["on"].stdout[-3000:]
    first, _ = runs["passwords"]
    _, homeserver = runs["on_config"]
    email = homeserver["email"]
    assert email["smtp_host"] == "smtp.example.test"
    assert email["smtp_port"] == 587
    assert (email["enable_tls"], email["require_transport_security"], email["force_tls"]) == (
        True,
        True,
        False,
    )
    assert email["smtp_user"] == "matrix"
    assert email["smtp_pass"] == first  # the Secret's trailing newline is not part of it
    assert email["enable_notifs"] is True
    assert homeserver["public_baseurl"] == "https://matrix.example.test/"


def test_the_second_run_changes_nothing(runs):
    run = runs["again"]
    assert run.returncode == 0, run.describe()
    assert run.changed == 0, [t.name for t in run.tasks if t.changed]
    assert runs["again_config"] == runs["on_config"]


def test_check_mode_sees_nothing_to_change(runs):
    run = runs["check"]
    assert run.returncode == 0, run.describe()
    assert run.changed == 0, [t.name for t in run.tasks if t.changed]


def test_a_new_password_in_the_secret_rolls_synapse(runs):
    run = runs["rotated"]
    assert run.returncode == 0, run.describe()
    _, second = runs["passwords"]
    name, homeserver = runs["rotated_config"]
    assert homeserver["email"]["smtp_pass"] == second
    assert name != runs["on_config"][0]  # a new homeserver.yaml Secret: the pod template changed


def test_email_off_again_removes_the_section(runs):
    run = runs["off"]
    assert run.returncode == 0, run.describe()
    _, homeserver = runs["off_config"]
    assert "email" not in homeserver


@pytest.mark.parametrize("label", ["missing", "on", "again", "check", "rotated", "off"])
def test_no_run_prints_a_password(runs, label):
    run = runs[label][0] if label == "missing" else runs[label]
    for password in runs["passwords"]:
        _not_printed(run, password)
