"""Make the collection importable as ansible_collections.matrixk8s.synapse in every test.

playbooks/collections/ansible_collections/matrixk8s/synapse is a committed symlink to the
repository root (it lets ansible-playbook find the collection from a checkout), so putting
playbooks/collections on sys.path gives Python the same view Ansible has.
Also the one fixture two tiers share: charts_copy (tests/unit and tests/charts change a copy).
"""

import pathlib
import shutil
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "playbooks" / "collections"))


@pytest.fixture
def charts_copy(tmp_path):
    """A copy of the repository's charts/ that a test may change. The charts' symlinks to the
    shared library chart stay symlinks (charts/README.md), as in a checkout."""
    path = tmp_path / "charts"
    shutil.copytree(REPO / "charts", path, symlinks=True)
    return path
