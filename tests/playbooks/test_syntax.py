"""Every playbook parses with every inventory (roles, imports and FQCNs resolve)."""

import pytest
from playbooklib import INVENTORIES, PLAYBOOKS, run_playbook


def test_the_expected_playbooks_and_inventories_exist():
    assert {"site.yml", "uninstall.yml", "rotate_signing_key.yml"} <= set(PLAYBOOKS)
    assert {"gke", "kind", "local"} <= set(INVENTORIES)


@pytest.mark.parametrize("inventory", INVENTORIES)
@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_syntax_check(playbook, inventory):
    run = run_playbook(playbook, inventory, args=["--syntax-check"], json_output=False)
    assert run.returncode == 0, run.stdout + run.stderr
