"""Make the collection importable as ansible_collections.matrixk8s.synapse in every test.

playbooks/collections/ansible_collections/matrixk8s/synapse is a committed symlink to the
repository root (it lets ansible-playbook find the collection from a checkout). Installing
Ansible's own collection loader with that path, before any test imports the collection,
gives Python the view Ansible has: plain imports of plugins and module_utils work, and so do
Ansible's plugin loaders (lookup_loader.get('matrixk8s.synapse.signing_key')), which need
the collection's metadata that only this loader records.
Also the one fixture two tiers share: charts_copy (tests/unit and tests/charts change a copy).
"""

import pathlib
import shutil

import pytest
from ansible.plugins.loader import init_plugin_loader

REPO = pathlib.Path(__file__).resolve().parent.parent
init_plugin_loader([str(REPO / "playbooks" / "collections")])


@pytest.fixture
def charts_copy(tmp_path):
    """A copy of the repository's charts/ that a test may change. The charts' symlinks to the
    shared library chart stay symlinks (charts/README.md), as in a checkout."""
    path = tmp_path / "charts"
    shutil.copytree(REPO / "charts", path, symlinks=True)
    return path
