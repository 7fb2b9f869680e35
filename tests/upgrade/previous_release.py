"""The previous release of this collection, installed as its users had it.

One copy of what both upgrade tests need: tests/upgrade/test_upgrade.py (the Kubernetes
objects, on the simulated cluster) and Molecule scenario node's prepare step (Matrix data on
the real node, checked by tests/node/test_upgrade_data.py).

The release is the commit in tests/upgrade/PREVIOUS_RELEASE (moved forward on each release:
docs/testing.md "Releasing"), or MATRIXK8S_PREVIOUS_RELEASE to try another. Its tree comes
from `git archive` and is built and installed with ansible-galaxy into a collections path of
its own. A clone without that commit (shallow) cannot fetch it offline: callers skip, saying so.

    python tests/upgrade/previous_release.py install DIR   # prints the collections path;
                                                           # exit 3 (and why) without the commit
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[2]
GALAXY = REPO / ".venv" / "bin" / "ansible-galaxy"
NOT_IN_CLONE = 3


class NotInClone(Exception):
    """The previous release's commit is not in this clone."""


def previous_commit() -> str:
    source = (
        "MATRIXK8S_PREVIOUS_RELEASE"
        if os.environ.get("MATRIXK8S_PREVIOUS_RELEASE")
        else "tests/upgrade/PREVIOUS_RELEASE"
    )
    commit = os.environ.get("MATRIXK8S_PREVIOUS_RELEASE") or (
        pathlib.Path(__file__).with_name("PREVIOUS_RELEASE").read_text().strip()
    )
    found = subprocess.run(
        ["git", "-C", str(REPO), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True, check=False
    )
    if found.returncode != 0:
        raise NotInClone(
            f"previous release {commit} ({source}) is not in this clone (shallow or without that "
            "history; it cannot be fetched offline): no upgrade test"
        )
    return commit


def install(root: pathlib.Path) -> pathlib.Path:
    """Build and install the previous release under ROOT/<commit>; its collections path.
    Kept: an installed commit is installed again only if its directory is gone."""
    commit = previous_commit()
    installed = pathlib.Path(root) / commit / "collections"
    if (installed / "ansible_collections" / "matrixk8s" / "synapse" / "MANIFEST.json").exists():
        return installed
    with tempfile.TemporaryDirectory(prefix="previous-release-") as work:
        source, build = pathlib.Path(work) / "source", pathlib.Path(work) / "build"
        source.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", commit], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
        _galaxy(commit, "build", "--output-path", str(build), str(source))
        (tarball,) = build.glob("matrixk8s-synapse-*.tar.gz")
        _galaxy(commit, "install", "--no-deps", "-p", str(installed), str(tarball))
    return installed


def _galaxy(commit: str, *args: str) -> None:
    cmd = [str(GALAXY), "collection", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"collection {args[0]} of {commit}: {done.stdout[-2000:]}{done.stderr[-2000:]}")


if __name__ == "__main__":
    if sys.argv[1:2] != ["install"] or len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} install DIR")
    try:
        print(install(pathlib.Path(sys.argv[2]).resolve()))
    except NotInClone as reason:
        print(reason, file=sys.stderr)
        sys.exit(NOT_IN_CLONE)
