# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read Helm 3 release records and fingerprint chart directories, without running helm.

A role that has just read its release's storage Secrets (label owner=helm, name=<release>)
can tell whether `helm upgrade` would change anything: the newest revision must be
deployed and hold exactly the values the role would pass. Because those values include
chart_digest() of the chart directory, a changed template changes the values too, so this
check (and kubernetes.core.helm's own values comparison) sees it.

Helm stores each revision in a Secret `sh.helm.release.v1.<name>.v<N>`: data.release is
base64 (by Kubernetes) of base64 (by Helm) of gzip of the release as JSON.
"""

import base64
import binascii
import gzip
import hashlib
import json
import os
import zlib

from ansible_collections.matrixk8s.synapse.plugins.module_utils.errors import MatrixK8sError

_GZIP_MAGIC = b"\x1f\x8b\x08"
# Files Helm's loader never packages (the charts' .helmignore) and editors leave behind.
_IGNORED_SUFFIXES = (".swp", ".bak", ".tmp", ".orig", "~")
# Top-level directories the charts' .helmignore also leaves out: ci/ holds the test values
# files (charts/README.md), so a changed test case upgrades no release.
_IGNORED_DIRS = ("ci",)


class HelmReleaseError(MatrixK8sError):
    """A release record or chart directory that is not what Helm writes or reads."""


def decode_release(data):
    """The release JSON of one storage Secret's data.release value (as the API returns it)."""
    try:
        raw = base64.b64decode(base64.b64decode(data, validate=True), validate=True)
        if raw.startswith(_GZIP_MAGIC):
            raw = gzip.decompress(raw)
        return json.loads(raw)
    except (binascii.Error, OSError, EOFError, zlib.error, ValueError) as exc:
        raise HelmReleaseError(f"not a Helm 3 release record: {exc}") from None


def helm_release_state(secrets):
    """What the newest revision among a release's storage Secrets says.

    Returns {} when there is no revision, else {name, revision, status, chart, config,
    manifest}: chart is "<name>-<version>", config the values the release was installed
    with, manifest the objects it rendered (Helm's YAML stream, as `helm get manifest`
    prints it), so a caller can tell which of them were deleted outside Helm without
    running helm.
    """
    newest = None
    for secret in secrets or []:
        labels = (secret.get("metadata") or {}).get("labels") or {}
        if labels.get("owner") != "helm":
            continue
        revision = int(labels.get("version", "0"))
        if newest is None or revision > newest[0]:
            newest = (revision, secret)
    if newest is None:
        return {}
    revision, secret = newest
    release = decode_release((secret.get("data") or {}).get("release", ""))
    metadata = (release.get("chart") or {}).get("metadata") or {}
    return {
        "name": release.get("name"),
        "revision": revision,
        "status": (release.get("info") or {}).get("status"),
        "chart": f"{metadata.get('name')}-{metadata.get('version')}",
        "config": release.get("config") or {},
        "manifest": release.get("manifest") or "",
    }


def _chart_files(path):
    # Symlinked directories are followed as Helm's loader follows them: the charts reach the
    # shared library through charts/<chart>/charts/matrixk8s-lib -> ../../matrixk8s-lib, so a
    # changed library file changes every chart's digest. A link back to a directory already
    # walked (a loop) is not entered twice.
    seen = set()
    for root, dirs, files in os.walk(path, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        skipped = _IGNORED_DIRS if root == path else ()
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in skipped)
        for name in sorted(files):
            if name.startswith(".") or name.endswith(_IGNORED_SUFFIXES):
                continue
            full = os.path.join(root, name)
            yield os.path.relpath(full, path).replace(os.sep, "/"), full


def chart_digest(path):
    """sha256 over every file of a chart directory (names and contents, through symlinks):
    'sha256:<hex>'."""
    path = str(path)  # Ansible hands over its own str subclass; os.path wants a plain one
    if not os.path.isfile(os.path.join(path, "Chart.yaml")):
        raise HelmReleaseError(f"{path} holds no Chart.yaml")
    digest = hashlib.sha256()
    for name, full in _chart_files(path):
        with open(full, "rb") as handle:
            content = handle.read()
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return "sha256:" + digest.hexdigest()
