"""Helpers for the chart tests: run helm, render charts, and check pod specs against the
Pod Security Standards "restricted" profile (plus this project's own rules).

Kept in a plain module (conftest.py puts this directory on sys.path) so the checker can be
tested on its own with pod specs that must fail.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CHARTS_DIR = REPO / "charts"
CHARTS = ("postgres", "synapse", "well-known")
# The library chart the three share (charts/README.md): it renders nothing itself.
LIBRARY = "matrixk8s-lib"
# Builds each values.schema.json from charts/schema/ (charts/README.md).
SCHEMA_BUILDER = REPO / "dev" / "build_chart_schemas.py"

# The Kubernetes version the charts are rendered and validated for (Helm's Capabilities and
# kubernetes-validate's OpenAPI schemas); the project's local cluster runs 1.34.
KUBE_VERSION = "1.34"

# Release names as the roles install them (docs/architecture.md).
RELEASES = {"postgres": "synapse-postgres", "synapse": "synapse", "well-known": "well-known"}

# The values each chart cannot render without: the existing Secrets (the charts never create
# secrets). Names from docs/architecture.md.
REQUIRED_SET = {
    "postgres": ["auth.existingSecret=synapse-postgres-password"],
    "synapse": [
        "config.existingSecret=synapse-config",
        "signingKey.existingSecret=synapse-signing-key",
    ],
    "well-known": [],
}


def find_helm() -> Path | None:
    """$HELM, else <repo>/.local/bin/helm (built by dev/cluster/build.sh)."""
    candidate = Path(os.environ["HELM"]) if os.environ.get("HELM") else REPO / ".local/bin/helm"
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


@dataclass
class Helm:
    path: Path
    calls: list[list[str]] = field(default_factory=list)

    def run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(self.path), *args]
        self.calls.append(cmd)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO)

    def template_cmd(self, chart, *, values_files=(), set_values=(), set_json=(), release=None):
        args = [
            "template",
            release or RELEASES[chart],
            str(CHARTS_DIR / chart),
            "--namespace",
            "matrix",
            "--kube-version",
            f"{KUBE_VERSION}.0",
        ]
        for f in values_files:
            args += ["--values", str(f)]
        for s in set_values:
            args += ["--set", s]
        for s in set_json:
            args += ["--set-json", s]
        return args

    def template(self, chart, **kw) -> subprocess.CompletedProcess:
        return self.run(*self.template_cmd(chart, **kw))

    def render(self, chart, **kw) -> list[dict]:
        """Rendered manifests as dicts; fails the test with helm's message if helm fails."""
        result = self.template(chart, **kw)
        if result.returncode != 0:
            raise AssertionError(f"helm template {chart} failed:\n{result.stderr}")
        return [d for d in yaml.safe_load_all(result.stdout) if d]


# The value sets beside each chart (charts/README.md): charts/<chart>/ci/<scenario>-values.yaml.
CI_SUFFIX = "-values.yaml"


def scenario_values(scenario: str, chart: str) -> Path | None:
    path = CHARTS_DIR / chart / "ci" / f"{scenario}{CI_SUFFIX}"
    return path if path.is_file() else None


def scenarios() -> list[tuple[str, str]]:
    """(scenario, chart) pairs: "default" for every chart, plus every ci/<scenario>-values.yaml."""
    pairs = [("default", chart) for chart in CHARTS]
    files = [p for c in CHARTS for p in (CHARTS_DIR / c / "ci").glob(f"*{CI_SUFFIX}")]
    names = {p.name.removesuffix(CI_SUFFIX) for p in files}
    for scenario in sorted(names):
        pairs += [(scenario, c) for c in CHARTS if scenario_values(scenario, c)]
    return pairs


def render_scenario(helm: Helm, scenario: str, chart: str) -> list[dict]:
    if scenario == "default":
        return helm.render(chart, set_values=REQUIRED_SET[chart])
    return helm.render(chart, values_files=[scenario_values(scenario, chart)])


# --- manifests -----------------------------------------------------------------------------

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


def pod_spec(doc: dict) -> dict | None:
    kind = doc.get("kind")
    if kind in WORKLOAD_KINDS:
        return doc["spec"]["template"]["spec"]
    if kind == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if kind == "Pod":
        return doc["spec"]
    return None


def pod_template_meta(doc: dict) -> dict:
    return doc["spec"]["template"]["metadata"]


def find(docs: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def one(docs: list[dict], kind: str, name: str | None = None) -> dict:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def container(spec: dict, name: str, init: bool = False) -> dict:
    key = "initContainers" if init else "containers"
    matches = [c for c in spec.get(key) or [] if c["name"] == name]
    assert len(matches) == 1, f"no {key[:-1]} named {name}"
    return matches[0]


def env_map(c: dict) -> dict:
    return {e["name"]: e for e in c.get("env") or []}


def port_number(c: dict, port) -> int:
    """A probe's port (number or container port name) as a number."""
    if isinstance(port, int):
        return port
    for p in c.get("ports") or []:
        if p.get("name") == port:
            return p["containerPort"]
    raise AssertionError(f"container {c['name']} has no port named {port}")


# --- Pod Security Standards -----------------------------------------------------------------
# https://kubernetes.io/docs/concepts/security/pod-security-standards/ (v1.34), "restricted"
# (which includes "baseline"), followed by this project's own additions.

RESTRICTED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}


def _all_containers(spec: dict) -> list[dict]:
    return [
        *(spec.get("initContainers") or []),
        *(spec.get("containers") or []),
        *(spec.get("ephemeralContainers") or []),
    ]


def restricted_violations(spec: dict, annotations: dict | None = None) -> list[str]:
    """Every way `spec` (a PodSpec) breaks the "restricted" profile; [] when it complies."""
    problems: list[str] = []
    psc = spec.get("securityContext") or {}
    containers = _all_containers(spec)
    annotations = annotations or {}

    # baseline
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key):
            problems.append(f"pod: {key} is true")
    if (psc.get("windowsOptions") or {}).get("hostProcess"):
        problems.append("pod: windowsOptions.hostProcess")
    for vol in spec.get("volumes") or []:
        types = set(vol) - {"name"}
        if "hostPath" in types:
            problems.append(f"volume {vol['name']}: hostPath")
        if not types <= RESTRICTED_VOLUME_TYPES:
            problems.append(f"volume {vol['name']}: type {sorted(types)} not allowed")
    for sysctl in psc.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            problems.append(f"pod: unsafe sysctl {sysctl.get('name')}")
    for key, value in annotations.items():
        if key.startswith("container.apparmor.security.beta.kubernetes.io/") and value == "unconfined":
            problems.append(f"pod: AppArmor unconfined ({key})")

    def check_common(where: str, sc: dict) -> None:
        if (sc.get("appArmorProfile") or {}).get("type") == "Unconfined":
            problems.append(f"{where}: appArmorProfile Unconfined")
        se = sc.get("seLinuxOptions") or {}
        if se.get("type", "") not in SELINUX_TYPES or se.get("user") or se.get("role"):
            problems.append(f"{where}: seLinuxOptions not allowed")
        if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
            problems.append(f"{where}: seccompProfile Unconfined")
        if sc.get("runAsNonRoot") is False:
            problems.append(f"{where}: runAsNonRoot false")
        if sc.get("runAsUser") == 0:
            problems.append(f"{where}: runAsUser 0")

    check_common("pod", psc)
    confined = {"RuntimeDefault", "Localhost"}
    pod_seccomp_ok = (psc.get("seccompProfile") or {}).get("type") in confined
    pod_nonroot = psc.get("runAsNonRoot") is True

    for c in containers:
        where = f"container {c['name']}"
        sc = c.get("securityContext") or {}
        check_common(where, sc)
        if sc.get("privileged"):
            problems.append(f"{where}: privileged")
        if sc.get("procMount", "Default") != "Default":
            problems.append(f"{where}: procMount {sc['procMount']}")
        for port in c.get("ports") or []:
            if port.get("hostPort"):
                problems.append(f"{where}: hostPort {port['hostPort']}")
        # restricted
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation is not false")
        if not pod_nonroot and sc.get("runAsNonRoot") is not True:
            problems.append(f"{where}: runAsNonRoot not set (pod or container)")
        if not pod_seccomp_ok and (sc.get("seccompProfile") or {}).get("type") not in confined:
            problems.append(f"{where}: seccompProfile not RuntimeDefault/Localhost")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            problems.append(f"{where}: capabilities do not drop ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.append(f"{where}: capabilities add {caps['add']}")
        # this project: the root filesystem is read-only (writable paths are emptyDirs)
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where}: readOnlyRootFilesystem is not true")

    # this project: explicit identities, no API token in the pod
    for key in ("runAsUser", "runAsGroup", "fsGroup"):
        if not isinstance(psc.get(key), int):
            problems.append(f"pod: securityContext.{key} not set explicitly")
    if spec.get("automountServiceAccountToken") is not False:
        problems.append("pod: automountServiceAccountToken is not false")
    return problems


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text())
