"""The certificate checks behind play 1's TLS preflight (module_utils/tls_certificate.py).

Real certificates, made by tests/tlscerts.py with cryptography: a Secret missing, of the
wrong type, for another host or expired is described naming the variable and the Secret,
and no message ever holds the certificate's or the key's bytes.
"""

import base64

import pytest
from tlscerts import make_ca, make_leaf

from ansible_collections.matrixk8s.synapse.plugins.module_utils.tls_certificate import (
    TlsCertificateError,
    federation_ca_problem,
    tls_certificate_hosts,
    tls_host_covered,
    tls_secret_problem,
)

CA_PEM, CA = make_ca()
HOST = "matrix.example.test"


def _secret(cert, key, kind="kubernetes.io/tls"):
    return {
        "type": kind,
        "data": {"tls.crt": base64.b64encode(cert).decode(), "tls.key": base64.b64encode(key).decode()},
    }


def _problem(secret, host=HOST):
    return tls_secret_problem(
        [secret] if secret else [], host, "matrix-tls", name="synapse_ingress_tls_secret"
    )


@pytest.mark.parametrize(
    ("host", "names", "covered"),
    [
        ("matrix.example.test", ["matrix.example.test"], True),
        ("MATRIX.example.test", ["matrix.example.test."], True),
        ("matrix.example.test", ["*.example.test"], True),
        ("example.test", ["*.example.test"], False),
        ("a.matrix.example.test", ["*.example.test"], False),
        ("matrix.example.test", ["example.test", "other.example.test"], False),
        ("matrix.example.test", [], False),
    ],
)
def test_host_coverage_follows_the_one_label_wildcard_rule(host, names, covered):
    assert tls_host_covered(host, names) is covered


def test_certificate_hosts_are_its_dns_subject_alt_names():
    cert, _ = make_leaf(CA, ["matrix.example.test", "*.example.test"], common_name="ignored.test")
    assert tls_certificate_hosts(cert.decode()) == ["matrix.example.test", "*.example.test"]


def test_certificate_hosts_of_something_else_names_where():
    with pytest.raises(TlsCertificateError, match="the file holds no PEM certificate"):
        tls_certificate_hosts("hello", where="the file")


def test_a_good_secret_has_no_problem():
    cert, key = make_leaf(CA, [HOST])
    assert _problem(_secret(cert + CA_PEM, key)) == ""


def test_missing_secret_names_secret_variable_and_host():
    problem = _problem(None)
    assert "Secret matrix-tls (synapse_ingress_tls_secret) does not exist" in problem
    assert f"certificate for {HOST}" in problem


def test_opaque_secret_is_refused():
    cert, key = make_leaf(CA, [HOST])
    problem = _problem(_secret(cert, key, kind="Opaque"))
    assert "synapse_ingress_tls_secret" in problem
    assert "of type Opaque, not kubernetes.io/tls" in problem


def test_secret_without_key_is_refused():
    cert, _ = make_leaf(CA, [HOST])
    secret = _secret(cert, b"x")
    del secret["data"]["tls.key"]
    assert "has no tls.key" in _problem(secret)


def test_certificate_for_another_host_names_what_it_covers():
    cert, key = make_leaf(CA, ["other.example.test"])
    problem = _problem(_secret(cert, key))
    assert "synapse_ingress_tls_secret" in problem
    assert f"certificate for other.example.test, which does not cover {HOST}" in problem


def test_common_name_alone_does_not_cover_the_host():
    cert, key = make_leaf(CA, [], common_name=HOST)
    assert "no DNS name (no subjectAltName)" in _problem(_secret(cert, key))


def test_expired_certificate_is_refused():
    cert, key = make_leaf(CA, [HOST], expired=True)
    assert "expired on" in _problem(_secret(cert, key))


def test_tls_crt_that_is_not_a_certificate_is_refused_without_quoting_it():
    secret = _secret(b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", b"k")
    problem = _problem(secret)
    assert "not a valid X.509 certificate" in problem
    assert "not base64 at all" not in problem


def test_no_message_quotes_key_or_certificate_material():
    cert, key = make_leaf(CA, ["other.example.test"])
    secret = _secret(cert, key)
    for candidate in (secret, _secret(cert, key, kind="Opaque")):
        problem = _problem(candidate)
        for material in (cert, key, secret["data"]["tls.crt"].encode(), secret["data"]["tls.key"].encode()):
            for line in material.splitlines()[1:-1]:
                assert line.decode() not in problem


@pytest.mark.parametrize("kind", ["configmap", "secret"])
def test_federation_ca_problems(kind):
    ref = {kind: "federation-ca", "key": "ca.crt"}
    encode = (lambda b: b.decode()) if kind == "configmap" else (lambda b: base64.b64encode(b).decode())
    what = "ConfigMap" if kind == "configmap" else "Secret"
    assert (
        federation_ca_problem([{"data": {"ca.crt": encode(CA_PEM)}}], ref, name="matrix_federation_ca") == ""
    )
    assert federation_ca_problem([], ref, name="matrix_federation_ca") == (
        f"{what} federation-ca (matrix_federation_ca) does not exist in the namespace"
    )
    assert "has no key ca.crt" in federation_ca_problem(
        [{"data": {"x": "y"}}], ref, name="matrix_federation_ca"
    )
    bundle = encode(CA_PEM + make_ca("second CA")[0])
    assert "holds 2 certificates, but Synapse reads only the first" in federation_ca_problem(
        [{"data": {"ca.crt": bundle}}], ref, name="matrix_federation_ca"
    )
    assert "holds no PEM certificate" in federation_ca_problem(
        [{"data": {"ca.crt": encode(b"not a CA")}}], ref, name="matrix_federation_ca"
    )
