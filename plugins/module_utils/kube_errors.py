# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Say in one sentence why the roles' first read of the cluster failed.

The roles read the cluster through the kubernetes.core.k8s lookup; when that fails, Ansible
wraps the client's error in several layers of "Task failed: ...". explain() keeps the
client's own words and puts first which of the usual causes it is: no such kube context,
an API server that cannot be reached, credentials it rejects, or missing permissions.
"""

import math
import re

_LOOKUP_PREFIX = re.compile(r"^.*?lookup plugin '[\w.]+' failed: ", re.DOTALL)
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(h|ms|m|s)")
_DURATION_UNITS = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
_UNREACHABLE = (
    "max retries exceeded",
    "connection refused",
    "name or service not known",
    "temporary failure in name resolution",
    "no route to host",
    "timed out",
    "network is unreachable",
    "certificate verify failed",
)


def explain(message, kubeconfig=None, context=None, namespace=None):
    reason = _LOOKUP_PREFIX.sub("", str(message or "unknown error")).strip()
    lowered = reason.lower()
    where = (
        f"matrix_kubeconfig ({kubeconfig or 'unset: K8S_AUTH_* or ~/.kube/config'}) and "
        f"matrix_kube_context ({context or 'unset: the current context'})"
    )
    if "contexts list" in lowered or ("context" in lowered and "not found" in lowered):
        return (
            f"Wrong kube context: {context or '(the current context)'} is not a context of the "
            f"kubeconfig ({kubeconfig or 'K8S_AUTH_KUBECONFIG or ~/.kube/config'}). Set "
            f"matrix_kube_context to one of its contexts. ({reason})"
        )
    if "no configuration found" in lowered or "invalid kube-config" in lowered:
        return f"Cannot reach the Kubernetes API: no usable kubeconfig ({reason}). Check {where}."
    if any(marker in lowered for marker in _UNREACHABLE):
        return f"Cannot reach the Kubernetes API: {reason}. Check {where}."
    if "401" in reason or "unauthorized" in lowered:
        return f"The Kubernetes API rejected the credentials: {reason}. Check {where}."
    if "403" in reason or "forbidden" in lowered:
        return (
            f"The Kubernetes API refused a read in namespace {namespace}: {reason}. The "
            f"credentials need get and list on Namespaces and Secrets there."
        )
    return f"Cannot read from the Kubernetes API: {reason}. Check {where}."


def duration_seconds(duration):
    """A Go duration as Helm takes it (10m, 1m30s, 90s, 1.5h, 500ms) in whole seconds, at least 1."""
    text = str(duration).strip()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration such as 10m or 1m30s: {duration!r}")
    seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in parts)
    return max(1, math.ceil(seconds))


def unready_pods(pods, revision=None):
    """Names of the pods (as the API returns them) without a Ready=True condition.

    With revision (a StatefulSet's status.updateRevision), only those of another revision:
    the pods the StatefulSet controller would wait for instead of replacing.
    """
    names = []
    for pod in pods or []:
        conditions = (pod.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            continue
        labels = (pod.get("metadata") or {}).get("labels") or {}
        if revision and labels.get("controller-revision-hash") == revision:
            continue
        names.append(pod["metadata"]["name"])
    return names
