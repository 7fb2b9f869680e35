"""On the real node, a homeserver.yaml that Synapse refuses never reaches the running pod.

`synapse_homeserver: {email: {smtp_host: x}}` passes the role's checks (smtp_host is an
option of Synapse's schema) but Synapse refuses it at start ("email.notif_from" missing;
tests/integration/test_synapse_config_complaint.py shows `python -m synapse.config` refusing
it on loopback). Before content addressing and the check Job, such a run stored it under
the fixed name the running pod mounts, stopped the old pod (Recreate) and left Synapse
crash-looping. Now the run fails before Helm, quoting Synapse's reason; the running pod is
the same pod on the same Secret, and a pod started afresh comes back Ready.

Needs the real node (tests/node/conftest.py). Under Molecule (scenario node) it uses the
scenario's deployment; run by hand it deploys with site.yml first.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from .nodelib import NAMESPACE, REPO, kube_json, kubectl, wait_until
from .test_deploy import PLAYBOOK_TIMEOUT, http_get, playbook, pods, ready, service_url

REFUSED = {"synapse_homeserver": {"email": {"smtp_host": "x"}}}
SYNAPSE_PODS = "app.kubernetes.io/name=synapse"


def mounted_config_secret() -> str:
    deployment = kube_json("-n", NAMESPACE, "get", "deployment", "synapse")
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    return next(v["secret"]["secretName"] for v in volumes if v["name"] == "config")


def helm_revision() -> int:
    release = kube_json("-n", NAMESPACE, "get", "secret", "-l", "owner=helm,name=synapse")["items"]
    return max(int(s["metadata"]["labels"]["version"]) for s in release)


def config_secrets() -> set[str]:
    selector = "matrixk8s.synapse/homeserver-config=true,app.kubernetes.io/instance=synapse"
    return {
        s["metadata"]["name"] for s in kube_json("-n", NAMESPACE, "get", "secret", "-l", selector)["items"]
    }


@pytest.fixture(scope="module")
def running():
    if os.environ.get("MATRIXK8S_NODE_CONVERGED") != "1":
        playbook("site.yml")
    (pod,) = pods(SYNAPSE_PODS)
    assert ready(pod)
    return {
        "pod": pod,
        "secret": mounted_config_secret(),
        "revision": helm_revision(),
        "secrets": config_secrets(),
    }


@pytest.fixture(scope="module")
def refused_run(running):
    return subprocess.run(
        [
            str(REPO / ".venv" / "bin" / "ansible-playbook"),
            "playbooks/site.yml",
            "-i",
            "inventories/local",
            "-i",
            "inventories/local-node",
            "-e",
            json.dumps(REFUSED),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=PLAYBOOK_TIMEOUT,
        env={k: v for k, v in os.environ.items() if k != "ANSIBLE_FORCE_COLOR"} | {"ANSIBLE_NOCOLOR": "1"},
    )


def test_a_refused_homeserver_yaml_fails_before_helm_quoting_synapse(refused_run, running):
    out = refused_run.stdout + refused_run.stderr
    assert refused_run.returncode != 0, out[-4000:]
    assert "Synapse refused the new homeserver.yaml" in out, out[-4000:]
    assert "email.notif_from" in out
    assert "not touched" in out
    assert "Install synapse as release synapse" not in out
    assert helm_revision() == running["revision"]
    # The refused file is not kept, and nothing else of homeserver.yaml changed.
    assert config_secrets() == running["secrets"]


def test_the_running_pod_keeps_its_secret_and_runs_on(refused_run, running):
    (pod,) = pods(SYNAPSE_PODS)
    assert pod["metadata"]["uid"] == running["pod"]["metadata"]["uid"]
    assert ready(pod)
    assert mounted_config_secret() == running["secret"]
    assert http_get(f"{service_url('synapse')}/health")[2] == b"OK"


def test_a_pod_started_afresh_comes_back_ready(refused_run, running):
    old = running["pod"]
    kubectl("-n", NAMESPACE, "delete", "pod", old["metadata"]["name"], "--wait=true", timeout=120)

    def replacement_ready():
        new = [p for p in pods(SYNAPSE_PODS) if p["metadata"]["uid"] != old["metadata"]["uid"]]
        return new and ready(new[0]) and new[0]

    new = wait_until("the replacement Synapse pod to be Ready", replacement_ready, timeout=300)
    config = next(v for v in new["spec"]["volumes"] if v["name"] == "config")
    assert config["secret"]["secretName"] == running["secret"]
    url = service_url("synapse")
    wait_until("/health through the Service", lambda: http_get(f"{url}/health")[2] == b"OK", timeout=60)
