"""Where the playbooks tier's time goes: every ansible-playbook process a test starts.

As a pytest plugin (`dev/bench/playbooks-tier.sh` loads it), it appends one JSON line per
ansible-playbook process to $PLAYBOOK_RUNS_LOG: the test (PYTEST_CURRENT_TEST, so a module
fixture's runs count for its module), the xdist worker, the playbook, the exit code, the
seconds and the last arguments. It wraps subprocess.Popen, which run_playbook's
subprocess.run and the tests' own Popen calls both go through; it changes nothing else.

As a script, `playbook_runs.py LOG JUNIT_XML` prints a Markdown table per module: tests,
seconds (junit: setup, call and teardown), and the runs by kind.
"""

import collections
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

_LOG = os.environ.get("PLAYBOOK_RUNS_LOG")
_Popen = subprocess.Popen


class _LoggedPopen(_Popen):
    def __init__(self, args, *rest, **kwargs):
        super().__init__(args, *rest, **kwargs)
        argv = [str(a) for a in (args if isinstance(args, (list, tuple)) else [args])]
        is_playbook = any(a.endswith("ansible-playbook") for a in argv)
        self._bench = {"argv": argv, "started": time.monotonic()} if is_playbook and _LOG else None

    def wait(self, timeout=None):
        code = super().wait(timeout)
        if self._bench is not None:
            bench, self._bench = self._bench, None
            argv = bench["argv"]
            entry = {
                "test": os.environ.get("PYTEST_CURRENT_TEST", ""),
                "worker": os.environ.get("PYTEST_XDIST_WORKER", ""),
                "playbook": next((a.rsplit("/", 1)[-1] for a in argv if a.endswith(".yml")), "?"),
                "rc": code,
                "seconds": round(time.monotonic() - bench["started"], 2),
                "args": argv[-8:],
            }
            with open(_LOG, "a", encoding="utf-8") as log:
                log.write(json.dumps(entry) + "\n")
        return code


subprocess.Popen = _LoggedPopen


def kind(run):
    """full: site.yml that converged (no tags, no check); refused: site.yml that failed;
    partial: site.yml with tags or check; purge: uninstall.yml purge=true; else the playbook."""
    args = " ".join(run["args"])
    if "--syntax-check" in args:
        return "syntax"
    if run["playbook"] == "site.yml":
        if run["rc"] != 0:
            return "refused"
        return "partial" if ("--tags" in args or "--check" in args) else "full"
    if run["playbook"] == "uninstall.yml":
        return "purge" if "purge=true" in args else "uninstall"
    return "other"


def _module(test):
    return test.split("::", 1)[0].rsplit("/", 1)[-1]


def table(log_path, junit_path):
    tests, seconds = collections.Counter(), collections.Counter()
    for case in ET.parse(junit_path).getroot().iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1] + ".py"
        tests[module] += 1
        seconds[module] += float(case.get("time", 0))
    kinds = ("full", "partial", "refused", "purge", "uninstall", "other", "syntax")
    runs = collections.defaultdict(collections.Counter)
    run_seconds = collections.Counter()
    with open(log_path, encoding="utf-8") as log:
        for line in log:
            run = json.loads(line)
            runs[_module(run["test"])][kind(run)] += 1
            run_seconds[_module(run["test"])] += run["seconds"]
    out = [
        "| module | tests | s (junit) | s in runs | " + " | ".join(kinds) + " |",
        "|---|---" * (4 + len(kinds)) + "|",
    ]
    total = collections.Counter()
    for module in sorted(seconds, key=lambda m: -seconds[m]):
        counts = runs.get(module, collections.Counter())
        total.update(counts)
        out.append(
            f"| {module} | {tests[module]} | {seconds[module]:.0f} | {run_seconds[module]:.0f} | "
            + " | ".join(str(counts[k]) for k in kinds)
            + " |"
        )
    out.append(
        f"| all | {sum(tests.values())} | {sum(seconds.values()):.0f} | {sum(run_seconds.values()):.0f} | "
        + " | ".join(str(total[k]) for k in kinds)
        + " |"
    )
    return "\n".join(out)


if __name__ == "__main__":
    print(table(sys.argv[1], sys.argv[2]))
