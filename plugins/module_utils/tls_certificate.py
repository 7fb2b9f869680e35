# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS certificates the roles are given: the Secret an Ingress serves, the CA Synapse trusts.

The roles read these objects in play 1 and ask here what is wrong with them, so a missing
Secret, a certificate for another host or a CA that is not a certificate stops the run before
anything is written, naming the variable and the object. Only public material is parsed:
tls.crt and the CA. tls.key is looked at for presence, never decoded, and no message
quotes any data (the names a certificate covers are public: every client sees them).

A certificate covers a host when one of its DNS subjectAltNames matches it, exactly or as a
one-label wildcard (*.example.com covers matrix.example.com, not example.com nor
a.b.example.com): the rule browsers and Synapse's federation client (Twisted) follow. The
subject's common name is ignored, as those clients ignore it.
"""

import base64
import binascii
import datetime

from ansible_collections.matrixk8s.synapse.plugins.module_utils.errors import MatrixK8sError

try:
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID
except ImportError:  # ansible-core requires cryptography; ansible-test imports without it
    x509 = None

TLS_SECRET_TYPE = "kubernetes.io/tls"
_PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"


class TlsCertificateError(MatrixK8sError):
    """A certificate the roles cannot use, described without quoting it."""


def _load_certificates(pem, where):
    """The certificates of a PEM bundle (bytes), first one first, or an error naming where."""
    if x509 is None:
        raise TlsCertificateError("reading certificates needs the Python package cryptography")
    if _PEM_CERTIFICATE not in pem:
        raise TlsCertificateError(f"{where} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise TlsCertificateError(
            f"{where} holds a PEM block that is not a valid X.509 certificate"
        ) from None


def _san_dns_names(certificate):
    try:
        extension = certificate.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return []
    return [name.lower() for name in extension.value.get_values_for_type(x509.DNSName)]


def tls_certificate_hosts(pem, where="the certificate"):
    """The DNS names (subjectAltName) the first certificate of a PEM bundle is valid for."""
    if isinstance(pem, str):
        pem = pem.encode("ascii", "replace")
    return _san_dns_names(_load_certificates(pem, where)[0])


def tls_host_covered(host, names):
    """Whether a certificate valid for names (DNS subjectAltNames) covers host."""
    host = str(host).lower().rstrip(".")
    for name in names:
        name = str(name).lower().rstrip(".")
        if name == host:
            return True
        if name.startswith("*.") and "." in host:
            label, rest = host.split(".", 1)
            if label and rest == name[2:]:
                return True
    return False


def _decoded(data, key, where):
    try:
        return base64.b64decode(data[key], validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise TlsCertificateError(f"{where}: key {key} is not base64") from None


def tls_secret_problem(secrets, host, secret_name, name, now=None):
    """What makes the Secret unusable by an Ingress serving host, or '' when nothing does.

    secrets: what the roles read for secret_name (a list of 0 or 1 Secret objects, data
    base64-encoded as the API returns it). name: the variable that names the Secret.
    Never raises for a bad Secret (the caller asserts on the answer); never quotes its data.
    """
    where = f"Secret {secret_name} ({name})"
    if not secrets:
        return (
            f"{where} does not exist in the namespace. Create it with the certificate for {host}: "
            f"kubectl create secret tls {secret_name} --cert=<chain.pem> --key=<key.pem>"
        )
    secret = secrets[0]
    kind = secret.get("type") or "Opaque"
    if kind != TLS_SECRET_TYPE:
        return (
            f"{where} is of type {kind}, not {TLS_SECRET_TYPE}: an Ingress controller serves only "
            f"a {TLS_SECRET_TYPE} Secret (kubectl create secret tls ...)"
        )
    data = secret.get("data") or {}
    missing = [key for key in ("tls.crt", "tls.key") if not data.get(key)]
    if missing:
        return f"{where} has no {' and no '.join(missing)}"
    try:
        certificate = _load_certificates(_decoded(data, "tls.crt", where), f"{where}, key tls.crt")[0]
    except TlsCertificateError as error:
        return str(error)
    names = _san_dns_names(certificate)
    if not tls_host_covered(host, names):
        covered = ", ".join(names) if names else "no DNS name (no subjectAltName)"
        return f"{where} holds a certificate for {covered}, which does not cover {host}"
    # timezone.utc, not datetime.UTC: module_utils may be imported by an older target Python.
    now = now or datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017
    expiry = certificate.not_valid_after_utc
    if expiry < now:
        return f"{where} holds a certificate for {host} that expired on {expiry:%Y-%m-%d}"
    return ""


def federation_ca_problem(objects, ca, name):
    """What makes the CA reference ca ({configmap|secret: name, key}) unusable, or '' (one PEM
    certificate: Synapse reads only the first of a file).

    objects: what the role read for it (0 or 1 ConfigMap or Secret). A ConfigMap's data is
    text; a Secret's is base64 (as the API returns both).
    """
    kind = "ConfigMap" if ca.get("configmap") else "Secret"
    where = f"{kind} {ca.get('configmap') or ca.get('secret')} ({name})"
    key = ca.get("key")
    if not objects:
        return f"{where} does not exist in the namespace"
    data = objects[0].get("data") or {}
    if key not in data:
        return f"{where} has no key {key}"
    try:
        pem = data[key].encode("utf-8") if kind == "ConfigMap" else _decoded(data, key, where)
        certificates = _load_certificates(pem, f"{where}, key {key}")
    except TlsCertificateError as error:
        return str(error)
    if len(certificates) > 1:
        # twisted's Certificate.loadPEM, which Synapse uses, keeps the first one only.
        return (
            f"{where}, key {key} holds {len(certificates)} certificates, but Synapse reads only the "
            "first certificate of each file in federation_custom_ca_list: give the one CA"
        )
    return ""
