"""The kube filters: a cluster read's failure explained, Go durations, unready pods."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.filter.kube import FilterModule
from ansible_collections.matrixk8s.synapse.plugins.module_utils import kube, kube_errors

FILTERS = FilterModule().filters()
explain_kube_error = FILTERS["explain_kube_error"]


def test_each_filter_has_the_name_of_its_function():
    assert set(FILTERS) == {"explain_kube_error", "unready_pods", "pod_diagnosis", "duration_seconds"}
    assert FILTERS["pod_diagnosis"].__wrapped__ is kube.pod_diagnosis
    assert FILTERS["explain_kube_error"].__wrapped__ is kube_errors.explain_kube_error
    assert FILTERS["unready_pods"].__wrapped__ is kube.unready_pods
    assert FILTERS["duration_seconds"].__wrapped__ is kube.duration_seconds


WRAPPED = (
    "Task failed: Finalization of task args for 'ansible.builtin.set_fact' failed: Error while "
    "resolving value for '_postgres_namespace_info': The lookup plugin 'kubernetes.core.k8s' failed: "
)


@pytest.mark.parametrize(
    ("reason", "starts"),
    [
        (
            "Could not create API client: Invalid kube-config file. Expected object with name "
            "nope in /x/kubeconfig/contexts list",
            "Wrong kube context: nope is not a context of the kubeconfig (/x/kubeconfig)",
        ),
        (
            "HTTPSConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /version "
            "(Caused by NewConnectionError('Failed to establish a new connection: [Errno 111] "
            "Connection refused'))",
            "Cannot reach the Kubernetes API: HTTPSConnectionPool(host='127.0.0.1', port=9)",
        ),
        (
            "Could not create API client: Invalid kube-config file. No configuration found.",
            "Cannot reach the Kubernetes API: no usable kubeconfig",
        ),
        ("(401) Reason: Unauthorized", "The Kubernetes API rejected the credentials"),
        (
            "(403) Reason: Forbidden: secrets is forbidden",
            "The Kubernetes API refused a read in namespace matrix",
        ),
        ("something new", "Cannot read from the Kubernetes API: something new."),
    ],
    ids=["wrong context", "unreachable", "no kubeconfig", "unauthorized", "forbidden", "other"],
)
def test_each_cause_is_named_first(reason, starts):
    message = explain_kube_error(
        WRAPPED + reason, kubeconfig="/x/kubeconfig", context="nope", namespace="matrix"
    )
    assert message.startswith(starts), message
    assert "Task failed" not in message
    assert "Finalization" not in message


def test_unset_settings_say_where_the_client_looks():
    message = explain_kube_error(WRAPPED + "Connection refused")
    assert "matrix_kubeconfig (unset: K8S_AUTH_* or ~/.kube/config)" in message
    assert "matrix_kube_context (unset: the current context)" in message


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [("10m", 600), ("1m30s", 90), ("90s", 90), ("1.5h", 5400), ("500ms", 1), ("1h2m3s", 3723)],
)
def test_durations_in_seconds(duration, seconds):
    assert FILTERS["duration_seconds"](duration) == seconds


@pytest.mark.parametrize("duration", ["10 minutes", "", "5", "m5", "1m 30s"])
def test_a_bad_duration_is_refused(duration):
    with pytest.raises(AnsibleFilterError, match="duration_seconds: not a duration"):
        FILTERS["duration_seconds"](duration)


def _pod(name, ready):
    conditions = [{"type": "PodScheduled", "status": "True"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": "True" if ready else "False"})
    phase = "Running" if ready else "Pending"
    return {"metadata": {"name": name}, "status": {"phase": phase, "conditions": conditions}}


def test_unready_pods_are_those_without_ready_true():
    bare = {"metadata": {"name": "bare"}}
    pods = [_pod("ready", True), _pod("not-ready", False), _pod("pending", None), bare]
    assert FILTERS["unready_pods"](pods) == ["not-ready", "pending", "bare"]
    assert FILTERS["unready_pods"]([]) == []


def test_with_a_revision_only_unready_pods_of_other_revisions_count():
    old, new = _pod("old", False), _pod("new", False)
    old["metadata"]["labels"] = {"controller-revision-hash": "sts-1"}
    new["metadata"]["labels"] = {"controller-revision-hash": "sts-2"}
    ready_old = _pod("ready-old", True)
    ready_old["metadata"]["labels"] = {"controller-revision-hash": "sts-1"}
    assert FILTERS["unready_pods"]([old, new, ready_old], "sts-2") == ["old"]


def _crash_looping(name="synapse-7d9f-abcde"):
    return {
        "metadata": {"name": name},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False"}],
            "initContainerStatuses": [
                {"name": "wait-for-database", "restartCount": 0, "state": {"terminated": {"exitCode": 0}}}
            ],
            "containerStatuses": [
                {
                    "name": "synapse",
                    "ready": False,
                    "restartCount": 7,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
                    "lastState": {"terminated": {"reason": "Error", "exitCode": 1}},
                }
            ],
        },
    }


def test_pod_diagnosis_names_the_pod_its_reason_exit_code_restarts_and_commands():
    (sentence,) = FILTERS["pod_diagnosis"]([_crash_looping(), _pod("fine", True)], "matrix")
    assert sentence.startswith("pod synapse-7d9f-abcde (Running): container synapse: CrashLoopBackOff")
    assert "last exit: Error, exit code 1" in sentence
    assert "7 restarts" in sentence
    # A finished init container is no problem.
    assert "wait-for-database" not in sentence
    assert "`kubectl -n matrix describe pod synapse-7d9f-abcde`" in sentence
    assert "`kubectl -n matrix logs synapse-7d9f-abcde -c synapse --previous`" in sentence


def test_pod_diagnosis_of_an_unscheduled_a_waiting_init_and_a_silent_pod():
    pending = {
        "metadata": {"name": "pending"},
        "status": {
            "phase": "Pending",
            "conditions": [
                {"type": "PodScheduled", "status": "False", "message": "0/2 nodes are available."}
            ],
        },
    }
    init = {
        "metadata": {"name": "init"},
        "status": {
            "phase": "Pending",
            "initContainerStatuses": [
                {"name": "wait-for-database", "restartCount": 0, "state": {"running": {}}, "ready": False}
            ],
        },
    }
    silent = _pod("silent", False)
    deleting = _crash_looping("old")
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    got = FILTERS["pod_diagnosis"]([pending, init, silent, deleting])
    assert got == [
        "pod pending (Pending): not scheduled: 0/2 nodes are available.",
        "pod init (Pending): init container wait-for-database: running but not ready"
        " (its readiness probe fails).",
        "pod silent (Pending): not Ready (no container reports a reason yet).",
    ]
    assert FILTERS["pod_diagnosis"]([]) == []
