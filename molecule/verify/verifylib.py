"""Helpers for the Molecule verify tests: which deployment they judge, and how to read it.

The tests run under `molecule verify` (pytest-testinfra, `--hosts=local://`) for both
scenarios, local and kind. The scenario tells them, through the provisioner's env, which
inventory it converged (MATRIXK8S_INVENTORY) and which kubeconfig reaches that cluster
(MATRIXK8S_KUBECONFIG, optionally MATRIXK8S_KUBE_CONTEXT). Everything they assert comes
from the live objects, read through the Kubernetes API.
"""

import base64
import os
import pathlib
import sys

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
# tests/playbooks/playbooklib.py runs a playbook as a user does and parses its JSON output;
# playbooks/collections makes the collection's module_utils importable.
sys.path.insert(0, str(REPO / "tests" / "playbooks"))
sys.path.insert(0, str(REPO / "playbooks" / "collections"))

INVENTORY = os.environ.get("MATRIXK8S_INVENTORY", "local")
KUBECONFIG = os.environ.get("MATRIXK8S_KUBECONFIG", str(REPO / ".local" / "kubeconfig"))
KUBE_CONTEXT = os.environ.get("MATRIXK8S_KUBE_CONTEXT") or None
PART_OF = "app.kubernetes.io/part-of=matrixk8s-synapse"
RELEASES = ("synapse-postgres", "synapse", "well-known")
# The Secrets the roles generate once and must never rewrite.
KEPT_SECRETS = ("synapse-signing-key", "synapse-secrets", "synapse-postgres-password")


def group_vars():
    """The inventory's group_vars/matrix, as written (untemplated)."""
    merged = {}
    for path in sorted((REPO / "inventories" / INVENTORY / "group_vars" / "matrix").glob("*.yml")):
        merged.update(yaml.safe_load(path.read_text()) or {})
    return merged


NAMESPACE = group_vars().get("matrix_namespace", "matrix")


def secret_raw(core, name):
    """A Secret's data exactly as stored (base64 strings), or None if it does not exist."""
    from kubernetes.client.exceptions import ApiException

    try:
        return dict(core.read_namespaced_secret(name, NAMESPACE).data or {})
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def secret_text(core, name):
    return {k: base64.b64decode(v).decode() for k, v in (secret_raw(core, name) or {}).items()}


def helm_releases(core):
    """{release: (revision, status)} of the newest revision, from Helm's own storage Secrets."""
    newest = {}
    for secret in core.list_namespaced_secret(NAMESPACE, label_selector="owner=helm").items:
        labels = secret.metadata.labels
        revision = int(labels["version"])
        if revision > newest.get(labels["name"], (0, ""))[0]:
            newest[labels["name"]] = (revision, labels["status"])
    return newest


def kept_secrets(core):
    """The generated Secrets' data and resourceVersions: a rewrite changes the latter."""
    out = {}
    for name in KEPT_SECRETS:
        secret = core.read_namespaced_secret(name, NAMESPACE)
        out[name] = (dict(secret.data), secret.metadata.resource_version)
    return out


def postgres_ready_since(core):
    """When the postgres pod last turned Ready (it must be Ready now)."""
    pod = core.read_namespaced_pod("synapse-postgres-0", NAMESPACE)
    ready = next(c for c in pod.status.conditions if c.type == "Ready")
    assert ready.status == "True", pod.status.conditions
    return ready.last_transition_time


# homeserver.yaml's Secrets of the synapse release (content-addressed: synapse-config-<digest>).
CONFIG_SELECTOR = "matrixk8s.synapse/homeserver-config=true,app.kubernetes.io/instance=synapse"


def config_secret_name(core):
    """The homeserver.yaml Secret the synapse Deployment's pod template mounts."""
    from kubernetes import client

    spec = (
        client.AppsV1Api(core.api_client).read_namespaced_deployment("synapse", NAMESPACE).spec.template.spec
    )
    return next(v.secret.secret_name for v in spec.volumes if v.name == "config")


def config_secrets(core):
    """Names of the synapse release's homeserver.yaml Secrets."""
    return {
        s.metadata.name for s in core.list_namespaced_secret(NAMESPACE, label_selector=CONFIG_SELECTOR).items
    }


def homeserver_yaml(core):
    """The homeserver.yaml the synapse pods mount, as text."""
    return secret_text(core, config_secret_name(core))["homeserver.yaml"]
