"""Make the collection importable as ansible_collections.matrixk8s.synapse in every test.

playbooks/collections/ansible_collections/matrixk8s/synapse is a committed symlink to the
repository root (it lets ansible-playbook find the collection from a checkout), so putting
playbooks/collections on sys.path gives Python the same view Ansible has.
"""

import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "playbooks" / "collections"))
