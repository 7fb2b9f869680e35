"""Helpers of the real-node suite: kubectl and ctr against this checkout's cluster and node.

Everything goes through the real programs (kubectl, ctr) with this checkout's kubeconfig
and containerd socket, each call bounded in time.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = REPO / ".local" / "bin"
KUBECONFIG = REPO / ".local" / "kubeconfig"
CONTEXT = "kwok-matrixk8s"
CONTAINERD_SOCK = REPO / ".local" / "node" / "run" / "containerd.sock"
NODE_NAME = "matrixk8s-real"
NAMESPACE = "matrix"


def kubectl(*args: str, timeout: float = 60, check: bool = True, stdin: str | None = None):
    cmd = [str(BIN / "kubectl"), "--kubeconfig", str(KUBECONFIG), "--context", CONTEXT, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=stdin)
    if check and proc.returncode:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def kube_json(*args: str) -> dict:
    return json.loads(kubectl(*args, "-o", "json").stdout)


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
