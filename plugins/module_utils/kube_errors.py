# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Say in one sentence why the roles' first read of the cluster failed.

The roles read the cluster through the kubernetes.core.k8s lookup; when that fails, Ansible
wraps the client's error in several layers of "Task failed: ...". explain_kube_error() keeps
the client's own words and puts first which of the usual causes it is: no such kube context,
an API server that cannot be reached, credentials it rejects, or missing permissions.
"""

import re

_LOOKUP_PREFIX = re.compile(r"^.*?lookup plugin '[\w.]+' failed: ", re.DOTALL)
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


def explain_kube_error(message, kubeconfig=None, context=None, namespace=None):
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
