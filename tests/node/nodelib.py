"""Helpers of the real-node suite: kubectl and ctr against this checkout's cluster and node.

Everything goes through the real programs (kubectl, ctr) with this checkout's kubeconfig
and containerd socket, each call bounded in time.
"""

from __future__ import annotations

import ipaddress
import json
import os
import pathlib
import secrets
import subprocess
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = REPO / ".local" / "bin"
KUBECONFIG = REPO / ".local" / "kubeconfig"
CONTEXT = "kwok-matrixk8s"
CONTAINERD_SOCK = REPO / ".local" / "node" / "run" / "containerd.sock"
NODE_NAME = "matrixk8s-real"
NAMESPACE = "matrix"
# The real node's pod bridge (dev/node/lib.sh): the only way the host may reach a
# cluster address (dev/cluster/routes.sh keeps the ranges unreachable otherwise).
BRIDGE = "mk8s0"
# An image of ours with bash (its /dev/tcp) and coreutils' timeout, for throwaway pods.
PROBE_IMAGE = "matrixk8s.local/postgres:17"
PROBE_VERDICTS = {"probe-connected": True, "probe-not-connected": False}


def kubectl(*args: str, timeout: float = 60, check: bool = True, stdin: str | None = None):
    cmd = [str(BIN / "kubectl"), "--kubeconfig", str(KUBECONFIG), "--context", CONTEXT, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=stdin)
    if check and proc.returncode:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def kube_json(*args: str) -> dict:
    return json.loads(kubectl(*args, "-o", "json").stdout)


def run_playbook(name: str, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """playbooks/NAME with ARGS (the inventories first), from the repository root; fails
    with the end of its output unless it succeeds."""
    proc = subprocess.run(
        [str(REPO / ".venv" / "bin" / "ansible-playbook"), f"playbooks/{name}", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        # Plain text to parse, also under Molecule (its verify step forces colour).
        env={k: v for k, v in os.environ.items() if k != "ANSIBLE_FORCE_COLOR"} | {"ANSIBLE_NOCOLOR": "1"},
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return proc


def node_is_up() -> bool:
    if not (KUBECONFIG.is_file() and CONTAINERD_SOCK.is_socket()):
        return False
    proc = kubectl(
        "get",
        "node",
        NODE_NAME,
        "-o",
        "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
        check=False,
    )
    return proc.returncode == 0 and proc.stdout == "True"


def ctr_run(image: str, *command: str, env: dict | None = None, tmpfs=(), timeout: float = 120, name=None):
    """Run IMAGE once with containerd's ctr (its own user, env and entrypoint unless COMMAND
    replaces them), with a read-only root filesystem as the charts run it; TMPFS paths are
    writable tmpfs mounts, as the charts' emptyDirs are."""
    name = name or f"contract-{os.getpid()}-{time.monotonic_ns()}"
    cmd = [str(BIN / "ctr"), "-a", str(CONTAINERD_SOCK), "-n", "k8s.io", "run", "--rm", "--read-only"]
    for path in tmpfs:
        cmd += ["--mount", f"type=tmpfs,src=tmpfs,dst={path},options=rw:mode=1777"]
    for key, value in (env or {}).items():
        cmd += ["--env", f"{key}={value}"]
    cmd += [image, name, *command]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def image_config(image: str) -> dict:
    """The image's OCI config (user, env, entrypoint, cmd, ports), as containerd stores it."""
    base = [str(BIN / "ctr"), "-a", str(CONTAINERD_SOCK), "-n", "k8s.io"]
    listing = subprocess.run(
        [*base, "images", "ls", f"name=={image}"], capture_output=True, text=True, timeout=30
    )
    lines = listing.stdout.strip().splitlines()
    assert len(lines) == 2, f"image {image} is not in the node's containerd: {listing.stdout}{listing.stderr}"
    manifest_digest = lines[1].split()[2]
    manifest = json.loads(_content(base, manifest_digest))
    return json.loads(_content(base, manifest["config"]["digest"]))["config"]


def _content(base: list[str], digest: str) -> str:
    proc = subprocess.run([*base, "content", "get", digest], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def wait_until(what: str, predicate, timeout: float, interval: float = 2.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
        except (AssertionError, subprocess.SubprocessError, OSError, ValueError) as err:
            result, last = None, err
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last})" if last else "")
    )


def route_of(address: str) -> dict:
    """How this machine routes ADDRESS (`ip -j route get`); {} when it has no route."""
    proc = subprocess.run(["ip", "-j", "route", "get", address], capture_output=True, text=True, timeout=10)
    return json.loads(proc.stdout)[0] if proc.returncode == 0 else {}


def served_cluster_ip(namespace: str, service: str) -> str:
    """The Service's ClusterIP, once it is certain that a connection from this machine stays
    on it: the real node is Ready and routes the address into its own bridge, where
    kube-proxy rewrites it to a pod. Anything else fails here, before a packet is sent (with
    simulated nodes the address would be unreachable, or worse, routed off the machine)."""
    assert node_is_up(), f"the real node {NODE_NAME} is not Ready: cluster addresses are not served here"
    address = kube_json("-n", namespace, "get", "service", service)["spec"]["clusterIP"]
    ipaddress.ip_address(address)  # a headless Service ("None") has no address to contact
    route = route_of(address)
    assert route.get("dev") == BRIDGE, f"{address} is not routed into {BRIDGE}: {route or 'no route'}"
    return address


def probe_pod_manifest(name: str, labels: dict, host: str, port: int, timeout: float) -> dict:
    """A pod that tries one TCP connection and says whether it got one. It meets Pod
    Security `restricted`, so it runs in any of our namespaces (matrix included)."""
    script = (
        f"if timeout {timeout:g} bash -c 'exec 3<>/dev/tcp/{host}/{port}' 2>/dev/null; "
        "then echo probe-connected; else echo probe-not-connected; fi"
    )
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "restartPolicy": "Never",
            "nodeName": NODE_NAME,
            "automountServiceAccountToken": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65534,
                "runAsGroup": 65534,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "probe",
                    "image": PROBE_IMAGE,
                    "imagePullPolicy": "Never",
                    "command": ["bash", "-c", script],
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


def pod_can_connect(namespace: str, labels: dict, host: str, port: int, timeout: float = 5) -> bool:
    """Run a throwaway pod with LABELS in NAMESPACE on the real node, let it try a TCP
    connection to HOST:PORT (an address or a DNS name), and say whether it connected.
    Whatever NetworkPolicies select such a pod, or its peer, decide the answer. A pod
    that does not run to the end raises, so a broken probe never reads as "blocked"."""
    name = f"tcp-probe-{secrets.token_hex(4)}"
    manifest = probe_pod_manifest(name, labels, host, port, timeout)
    kubectl("-n", namespace, "apply", "-f", "-", stdin=json.dumps(manifest))
    try:

        def finished():
            phase = kube_json("-n", namespace, "get", "pod", name)["status"].get("phase")
            return phase in ("Succeeded", "Failed") and phase

        phase = wait_until(f"probe pod {name} to finish", finished, timeout=timeout + 60, interval=1)
        verdict = kubectl("-n", namespace, "logs", name).stdout.strip()
        assert phase == "Succeeded", f"probe pod {name} ended {phase}: {verdict!r}"
        assert verdict in PROBE_VERDICTS, f"probe pod {name} said {verdict!r}"
        return PROBE_VERDICTS[verdict]
    finally:
        kubectl("-n", namespace, "delete", "pod", name, "--wait=false", "--ignore-not-found", check=False)
