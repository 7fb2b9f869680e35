"""Deploy benchmark on the local cluster: site.yml against plain Helm (dev/bench/deploy.sh runs it).

With --real-node (make bench-deploy-node) the same three runs go to the local cluster's real
node (inventories/local layered with inventories/local-node): there every side waits for
real pods (initdb, Synapse's start, the probes), which simulated nodes report Ready at once.

Each repetition, from an empty namespace (playbooks/uninstall.yml -e purge=true, then the
fake volumes handed back to the pool, all untimed):

  (a) full deploy    ansible-playbook playbooks/site.yml -i inventories/local [-i inventories/local-node]
  (b) second run     the same command again at once; its changed count is recorded
  (c) plain Helm     `helm upgrade --install --wait` of charts/postgres, charts/synapse and
                     charts/well-known, one after the other (Synapse's init container waits
                     for the database, so this is the order a user would pick too), with the
                     exact values the roles passed in (a) (`helm get values`).

(c) includes: the three Helm commands and the wait until each release is Ready.
(c) excludes, because a plain-Helm user prepares them by hand beforehand: the Secrets the
roles create (database password, signing key, generated secrets, homeserver.yaml, admin
password). They are copied from (a) and restored, untimed, before (c) starts: the charts
refuse to install without them. Also absent from (c), with no plain-Helm equivalent: input
validation, the homeserver.yaml merge, and the admin registration Job that (a) runs.

Prints a table and a JSON document (also written to .local/bench/deploy.json, or
deploy-node.json with --real-node) with the median of each figure over the repetitions, the
changed count of every (b), and the ratios a/c and b/c.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The checkout this script belongs to (for its helpers), and the one benchmarked: the same
# unless MATRIXK8S_BENCH_REPO names another (dev/bench/deploy-compare.sh: an earlier commit,
# run with this script and this venv so only the collection differs).
HERE = Path(__file__).resolve().parents[2]
REPO = Path(os.environ.get("MATRIXK8S_BENCH_REPO") or HERE).resolve()
VENV_BIN = Path(sys.executable).parent
KUBECONFIG = REPO / ".local" / "kubeconfig"
HELM = REPO / ".local" / "bin" / "helm"
OUT_DIR = REPO / ".local" / "bench"
NAMESPACE = "matrix"
PART_OF = "app.kubernetes.io/part-of=matrixk8s-synapse"
# Release names are the roles' defaults (inventories/local keeps them); install order of site.yml.
RELEASES = [
    ("synapse-postgres", "charts/postgres"),
    ("synapse", "charts/synapse"),
    ("well-known", "charts/well-known"),
]
HELM_TIMEOUT = "5m"

sys.path.insert(0, str(HERE / "dev" / "cluster"))
from volumes import return_released_volumes  # noqa: E402


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def kube():
    from kubernetes import client, config

    return client.CoreV1Api(config.new_client_from_config(config_file=str(KUBECONFIG)))


def run(cmd, env=None, check=True):
    full_env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    full_env.update(env or {})
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env=full_env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if check and proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"[bench] failed (rc={proc.returncode}): {' '.join(map(str, cmd))}")
    return proc, seconds


# Inventory arguments of every playbook run; main() adds inventories/local-node for --real-node.
INVENTORIES = ["-i", "inventories/local"]


def playbook(name, *args):
    """Run a playbook with the JSON callback; return (seconds, changed count)."""
    cmd = [str(VENV_BIN / "ansible-playbook"), *INVENTORIES, f"playbooks/{name}", *args]
    proc, seconds = run(cmd, env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"})
    stats = json.loads(proc.stdout)["stats"]
    return seconds, sum(host["changed"] for host in stats.values())


def helm(*args):
    return run([str(HELM), "--kubeconfig", str(KUBECONFIG), "-n", NAMESPACE, *args])


def reset(core):
    """Empty the namespace of everything ours: releases, Secrets, ConfigMaps, volumes."""
    playbook("uninstall.yml", "-e", "purge=true")
    return_released_volumes(core, NAMESPACE)
    leftovers = core.list_namespaced_secret(NAMESPACE, label_selector=PART_OF).items
    releases = helm("list", "-a", "-q")[0].stdout.split()
    if leftovers or releases:
        raise SystemExit(f"[bench] namespace not empty after purge: {leftovers}, {releases}")


def capture(core):
    """What (c) needs from the deployment (a) made: the roles' Secrets and the chart values."""
    secrets = [
        {
            "metadata": {
                "name": s.metadata.name,
                "labels": s.metadata.labels,
                "annotations": s.metadata.annotations,
            },
            "type": s.type,
            "data": s.data,
        }
        for s in core.list_namespaced_secret(NAMESPACE, label_selector=PART_OF).items
    ]
    values = {
        release: json.loads(helm("get", "values", release, "-o", "json")[0].stdout) for release, _ in RELEASES
    }
    return secrets, values


def plain_helm(core, secrets, values):
    """(c): restore the Secrets (untimed), then time the three Helm installs."""
    for secret in secrets:
        core.create_namespaced_secret(NAMESPACE, secret)
    seconds = {}
    with tempfile.TemporaryDirectory() as tmp:
        for release, chart in RELEASES:
            path = Path(tmp) / f"{release}.json"
            path.write_text(json.dumps(values[release]))
            seconds[release] = helm(
                "upgrade", "--install", release, chart, "-f", str(path), "--wait", "--timeout", HELM_TIMEOUT
            )[1]
    return sum(seconds.values()), seconds


def summarise(reps, mode):
    def median(key):
        return round(statistics.median(r[key] for r in reps), 2)

    a, b, c = median("a_full_deploy_s"), median("b_second_run_s"), median("c_plain_helm_s")
    return {
        "nodes": mode,
        "repetitions": len(reps),
        "median_seconds": {"a_full_deploy": a, "b_second_run": b, "c_plain_helm": c},
        "b_changed": [r["b_changed"] for r in reps],
        "a_changed": [r["a_changed"] for r in reps],
        "ratio_a_over_c": round(a / c, 2),
        "ratio_b_over_c": round(b / c, 2),
        "runs": reps,
    }


def table(summary):
    m = summary["median_seconds"]
    rows = [
        ("(a) site.yml, empty namespace", m["a_full_deploy"], f"changed={summary['a_changed']}"),
        ("(b) site.yml, second run", m["b_second_run"], f"changed={summary['b_changed']}"),
        ("(c) plain helm upgrade --install --wait", m["c_plain_helm"], "3 releases"),
    ]
    lines = [f"{'run':<42} {'median s':>9}  note", "-" * 72]
    lines += [f"{name:<42} {value:>9.2f}  {note}" for name, value, note in rows]
    lines.append("-" * 72)
    lines.append(f"ratio a/c = {summary['ratio_a_over_c']:.2f}   ratio b/c = {summary['ratio_b_over_c']:.2f}")
    lines.append(f"repetitions: {summary['repetitions']}, nodes: {summary['nodes']}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get("RUNS", "3")))
    parser.add_argument(
        "--real-node",
        action="store_true",
        help="the cluster runs the real node (MATRIXK8S_REAL_NODE=1 dev/cluster/up.sh): use its images",
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    mode = "real" if args.real_node else "simulated"
    if args.real_node:
        INVENTORIES.extend(["-i", "inventories/local-node"])
    core = kube()
    reps = []
    for i in range(1, args.runs + 1):
        log(f"repetition {i}/{args.runs}: reset")
        reset(core)
        a, a_changed = playbook("site.yml")
        log(f"  (a) full deploy {a:.2f} s, changed={a_changed}")
        b, b_changed = playbook("site.yml")
        log(f"  (b) second run  {b:.2f} s, changed={b_changed}")
        secrets, values = capture(core)
        reset(core)
        c, per_release = plain_helm(core, secrets, values)
        log(f"  (c) plain helm  {c:.2f} s {json.dumps({k: round(v, 2) for k, v in per_release.items()})}")
        reps.append(
            {
                "a_full_deploy_s": round(a, 3),
                "a_changed": a_changed,
                "b_second_run_s": round(b, 3),
                "b_changed": b_changed,
                "c_plain_helm_s": round(c, 3),
                "c_per_release_s": {k: round(v, 3) for k, v in per_release.items()},
            }
        )
    log("final reset")
    reset(core)
    summary = summarise(reps, mode)
    out = OUT_DIR / ("deploy-node.json" if args.real_node else "deploy.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(table(summary))
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
