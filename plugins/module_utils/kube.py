# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Kubernetes and Helm accept, and what the Kubernetes API says about pods.

Pure functions with no Ansible imports, shared by the filters (plugins/filter/kube.py), the
Jinja tests (plugins/test/kube.py) and anything else that needs the grammar:

    k8s_name(value)       an RFC 1123 DNS label: a Namespace, a Helm release name
    k8s_subdomain(value)  an RFC 1123 DNS subdomain: a Secret or ConfigMap name
    k8s_quantity(value)   a resource quantity such as 10Gi or 1.5G
    go_duration(value)    a Go duration as Helm takes it (10m, 1m30s, 500ms, 1.5h)
    image_repository(v)   an image name as a reference holds it (registry/path, lower case)
    image_tag(value)      an image tag (a string or an integer such as 17)
    duration_seconds(d)   that duration in whole seconds, for modules that take seconds
    unready_pods(pods)    the names of the pods without a Ready=True condition
    pod_diagnosis(pods)   why each of those is not Ready, one sentence per pod

The grammar functions answer True or False and never raise; they take str only, and match
the whole string (re.fullmatch: a trailing newline is not a name, as it is for `$`).
"""

import math
import re

from ansible_collections.matrixk8s.synapse.plugins.module_utils.errors import MatrixK8sError

# https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
# Kubernetes bounds only the whole subdomain (253), not each dot-separated part (its own
# IsDNS1123Subdomain), so neither do we: a name the API server takes is accepted here.
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_SUBDOMAIN_MAX = 253
_QUANTITY = re.compile(r"[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?")
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(h|ms|m|s)")
_DURATION_UNITS = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
# The image reference grammar of the OCI distribution specification (as containerd and
# Docker parse it): an optional registry host[:port], then lower-case path components
# separated by '/', each made of alphanumerics joined by '.', '_', '__' or dashes. A tag is
# 1 to 128 of letters, digits, '_', '.', '-', not starting with '.' or '-'.
# charts/schema/definitions/image.json holds the same two patterns.
_REGISTRY = (
    r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"
)
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_IMAGE_REPOSITORY = re.compile(rf"(?:{_REGISTRY}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*", re.ASCII)
_IMAGE_REPOSITORY_MAX = 255
_IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)


class KubeError(MatrixK8sError):
    """A value Kubernetes or Helm would not take."""


def k8s_name(value):
    return isinstance(value, str) and _DNS_LABEL.fullmatch(value) is not None


def k8s_subdomain(value):
    return (
        isinstance(value, str)
        and len(value) <= _SUBDOMAIN_MAX
        and _DNS_SUBDOMAIN.fullmatch(value) is not None
    )


def k8s_quantity(value):
    return isinstance(value, str) and _QUANTITY.fullmatch(value) is not None


def image_repository(value):
    return (
        isinstance(value, str)
        and len(value) <= _IMAGE_REPOSITORY_MAX
        and _IMAGE_REPOSITORY.fullmatch(value) is not None
    )


def image_tag(value):
    """True for a tag a reference can hold; an integer counts (YAML reads `tag: 17` so)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return isinstance(value, str) and _IMAGE_TAG.fullmatch(value) is not None


def go_duration(value):
    """True for a string duration_seconds accepts as it is (no surrounding whitespace:
    duration_seconds forgives it, Helm does not)."""
    if not isinstance(value, str) or value != value.strip():
        return False
    try:
        duration_seconds(value)
    except KubeError:
        return False
    return True


def duration_seconds(duration):
    """A Go duration as Helm takes it (10m, 1m30s, 90s, 1.5h, 500ms) in whole seconds, at least 1."""
    text = str(duration).strip()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise KubeError(f"not a duration such as 10m or 1m30s: {duration!r}")
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


def _ready(pod):
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _container_problem(status):
    """What a container status says is wrong, or '' for a running, ready container."""
    parts = []
    state = status.get("state") or {}
    if "waiting" in state:
        waiting = state["waiting"] or {}
        reason = waiting.get("reason") or "waiting"
        message = (waiting.get("message") or "").strip()
        parts.append(f"{reason} ({message})" if message else reason)
    elif "terminated" in state:
        terminated = state["terminated"] or {}
        parts.append(
            f"terminated: {terminated.get('reason') or 'exit'}, exit code {terminated.get('exitCode')}"
        )
    elif not status.get("ready", True):
        parts.append("running but not ready (its readiness probe fails)")
    last = (status.get("lastState") or {}).get("terminated")
    if last:
        parts.append(f"last exit: {last.get('reason') or 'terminated'}, exit code {last.get('exitCode')}")
    restarts = status.get("restartCount") or 0
    if parts and restarts:
        parts.append(f"{restarts} restart{'s' if restarts != 1 else ''}")
    return ", ".join(parts)


def pod_diagnosis(pods, namespace=None):
    """One sentence per pod (as the API returns them) that is not Ready, saying why.

    Names the pod, its phase, and for each container (init containers first) its waiting
    reason (CrashLoopBackOff, ImagePullBackOff, CreateContainerConfigError, ...), its last
    termination (reason and exit code) and its restart count; a pod that is not scheduled
    gives the scheduler's reason. Pods being deleted are left out: they are on their way.
    With namespace, each sentence ends with the kubectl commands that show more: describe,
    and the logs of each failing container (of its previous run, when it restarted).
    """
    sentences = []
    for pod in pods or []:
        metadata = pod.get("metadata") or {}
        if _ready(pod) or metadata.get("deletionTimestamp"):
            continue
        status = pod.get("status") or {}
        problems, logs = [], []
        for kind, key in (("init container", "initContainerStatuses"), ("container", "containerStatuses")):
            for container in status.get(key) or []:
                problem = _container_problem(container)
                if problem and not (kind == "init container" and _init_done(container)):
                    problems.append(f"{kind} {container.get('name')}: {problem}")
                    previous = " --previous" if container.get("restartCount") else ""
                    logs.append(f"-c {container.get('name')}{previous}")
        for condition in status.get("conditions") or []:
            if condition.get("type") == "PodScheduled" and condition.get("status") != "True":
                reason = condition.get("message") or condition.get("reason") or "not scheduled"
                problems.append(f"not scheduled: {reason}")
        if not problems:
            problems.append("not Ready (no container reports a reason yet)")
        phase = status.get("phase") or "Unknown"
        name = metadata.get("name")
        sentence = f"pod {name} ({phase}): " + "; ".join(problems).rstrip(".") + "."
        if namespace:
            commands = [f"`kubectl -n {namespace} describe pod {name}`"]
            commands += [f"`kubectl -n {namespace} logs {name} {log}`" for log in logs]
            sentence += " See " + ", ".join(commands) + "."
        sentences.append(sentence)
    return sentences


def _init_done(status):
    terminated = (status.get("state") or {}).get("terminated") or {}
    return terminated.get("exitCode") == 0
