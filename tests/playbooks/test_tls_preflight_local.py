"""TLS objects the user provides are checked in site.yml's play 1, on the local cluster.

matrix_tls_mode secret names kubernetes.io/tls Secrets the user creates, matrix_federation_ca
a ConfigMap or Secret with the CA Synapse trusts. A Secret that is missing, of another type
or for another host, and a CA that is missing, stop the run in play 1 (roles' read_tls.yml)
with a message naming the variable and the object: nothing in the namespace changes and no
key material is printed. No deployment is needed (play 1 only reads), so these runs cost a
play each, not a deploy (about a minute each: keep the cases few; the rest is in
tests/unit/plugins/module_utils/test_tls_certificate.py). Good Secrets and CA passing is
shown by the converges of test_site_local.py; the offline shape checks are in
test_preflight.py.
"""

import base64

import pytest
from playbooklib import NAMESPACE, namespace_state, put_object, run_playbook
from tlscerts import make_ca, make_leaf

CA_PEM, CA = make_ca()
SYNAPSE_HOST = "matrix.example.test"  # inventories/local: matrix_public_host
APEX_HOST = "example.test"  # matrix_server_name
MATERIAL = {
    "good-synapse": make_leaf(CA, [SYNAPSE_HOST]),
    "good-apex": make_leaf(CA, [APEX_HOST]),
    "other-host": make_leaf(CA, ["other.example.test"]),
}


def _tls_body(material, kind="kubernetes.io/tls"):
    cert, key = MATERIAL[material]
    return {
        "type": kind,
        "data": {"tls.crt": base64.b64encode(cert).decode(), "tls.key": base64.b64encode(key).decode()},
    }


SECRET_MODE = {"matrix_tls_mode": "secret", "well_known_ingress_tls_secret": "tls-good-apex"}
CASES = {
    "missing Secret": (
        {**SECRET_MODE, "synapse_ingress_tls_secret": "tls-absent"},
        ["Secret tls-absent (synapse_ingress_tls_secret) does not exist", SYNAPSE_HOST],
    ),
    "Opaque Secret": (
        {**SECRET_MODE, "synapse_ingress_tls_secret": "tls-opaque"},
        ["Secret tls-opaque (synapse_ingress_tls_secret) is of type Opaque, not kubernetes.io/tls"],
    ),
    "certificate for another host": (
        {**SECRET_MODE, "synapse_ingress_tls_secret": "tls-other-host"},
        [
            "(synapse_ingress_tls_secret) holds a certificate for other.example.test",
            f"not cover {SYNAPSE_HOST}",
        ],
    ),
    "apex certificate for the Synapse host": (
        {
            **SECRET_MODE,
            "synapse_ingress_tls_secret": "tls-good-synapse",
            "well_known_ingress_tls_secret": "tls-good-synapse",
        },
        ["Secret tls-good-synapse (well_known_ingress_tls_secret)", f"does not cover {APEX_HOST}"],
    ),
    "missing federation CA": (
        {"matrix_federation_ca": {"configmap": "absent-ca", "key": "ca.crt"}},
        ["ConfigMap absent-ca (matrix_federation_ca) does not exist"],
    ),
}


@pytest.fixture(scope="module")
def tls_objects(core):
    """The Secrets and ConfigMaps the cases name (all but the missing ones)."""
    put_object(core, "Secret", "tls-good-synapse", _tls_body("good-synapse"))
    put_object(core, "Secret", "tls-good-apex", _tls_body("good-apex"))
    put_object(core, "Secret", "tls-other-host", _tls_body("other-host"))
    put_object(core, "Secret", "tls-opaque", _tls_body("good-synapse", kind="Opaque"))
    yield
    for name in ("tls-good-synapse", "tls-good-apex", "tls-other-host", "tls-opaque"):
        core.delete_namespaced_secret(name, NAMESPACE)


@pytest.mark.parametrize(("extra_vars", "needles"), CASES.values(), ids=list(CASES))
def test_bad_tls_object_stops_play_1_and_changes_nothing(
    extra_vars, needles, tls_objects, core, apps, tmp_path
):
    before = namespace_state(core, apps, NAMESPACE)
    run = run_playbook("site.yml", extra_vars=extra_vars, tmp_path=tmp_path)
    assert run.returncode != 0
    failed = run.failed_task
    assert failed is not None, run.describe()
    assert "/tasks/read_tls.yml" in failed.path, run.describe()
    for needle in needles:
        assert needle in failed.message, failed.message
    assert "Nothing was changed" in failed.message
    assert run.changed == 0
    # Play 2 never started: no role's apply ran.
    assert not [t for t in run.tasks if "/tasks/apply.yml" in t.path and "_common" not in t.path], (
        run.describe()
    )
    assert namespace_state(core, apps, NAMESPACE) == before
    for cert, key in MATERIAL.values():
        for material in (cert, key, base64.b64encode(key)):
            for line in material.splitlines()[1:-1] or [material]:
                assert line.decode() not in run.stdout + run.stderr
