"""The Molecule scenarios stay runnable: kind cannot run here (no Docker), local runs in
`make molecule`; both are checked here without a cluster.

Molecule's own schema and `molecule syntax` judge each molecule.yml, every scenario
playbook passes ansible-playbook --syntax-check, both scenarios share one verify
directory (no copies), and kind's pins stay pins.
"""

import json
import os
import re
import subprocess

import pytest
import yaml
from playbooklib import ANSIBLE_PLAYBOOK, REPO, VENV_BIN

SCENARIOS = ("local", "kind")
MOLECULE = REPO / "molecule"


def _config(scenario):
    return yaml.safe_load((MOLECULE / scenario / "molecule.yml").read_text())


def _molecule_env(scenario):
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    # Molecule's ephemeral files in the ignored .local/, not ~/.ansible, and apart from the
    # directory of a real `make molecule` run that may be going on.
    env["MOLECULE_EPHEMERAL_DIRECTORY"] = str(REPO / ".local" / "molecule" / f"syntax-check-{scenario}")
    env["MOLECULE_PROJECT_DIRECTORY"] = str(REPO)
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


def test_both_scenarios_exist():
    assert {p.parent.name for p in MOLECULE.glob("*/molecule.yml")} == set(SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_yml_matches_molecules_schema(scenario):
    import jsonschema

    import molecule

    schema = json.loads((REPO / molecule.__path__[0] / "data" / "molecule.json").read_text())
    jsonschema.validate(_config(scenario), schema)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_is_delegated_and_converges_with_site_yml(scenario):
    config = _config(scenario)
    assert config["driver"] == {"name": "default", "options": {"managed": False}}
    playbooks = config["provisioner"]["playbooks"]
    assert (MOLECULE / scenario / playbooks["converge"]).resolve() == REPO / "playbooks" / "site.yml"
    links = config["provisioner"]["inventory"]["links"]
    assert (MOLECULE / scenario / links["hosts"]).resolve() == REPO / "inventories" / scenario / "hosts.yml"
    assert (
        MOLECULE / scenario / links["group_vars"]
    ).resolve() == REPO / "inventories" / scenario / "group_vars"
    assert config["provisioner"]["env"]["MATRIXK8S_INVENTORY"] == scenario
    assert config["verifier"]["name"] == "testinfra"
    assert config["verifier"]["options"]["hosts"] == "local://"
    sequence = config["scenario"]["test_sequence"]
    assert sequence.index("converge") < sequence.index("idempotence") < sequence.index("verify")
    assert sequence[-1] == "destroy"


def test_scenarios_share_one_verify_directory():
    directories = {(MOLECULE / s / _config(s)["verifier"]["directory"]).resolve() for s in SCENARIOS}
    assert len(directories) == 1
    (verify,) = directories
    tests = sorted(p.name for p in verify.glob("test_*.py"))
    assert len(tests) >= 5, tests
    for scenario in SCENARIOS:
        assert not list((MOLECULE / scenario).glob("test_*.py")), f"{scenario} has its own copy"


@pytest.mark.parametrize(
    "playbook",
    sorted(str(p.relative_to(MOLECULE)) for p in MOLECULE.glob("*/*.yml") if p.name != "molecule.yml"),
)
def test_scenario_playbook_passes_syntax_check(playbook):
    scenario = playbook.split("/")[0]
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", f"inventories/{scenario}", "--syntax-check", str(MOLECULE / playbook)],
        cwd=REPO,
        env=_molecule_env(scenario),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_syntax_step(scenario):
    """Molecule itself loads the scenario and syntax-checks its converge (no cluster needed)."""
    proc = subprocess.run(
        [str(VENV_BIN / "molecule"), "syntax", "-s", scenario],
        cwd=REPO,
        env=_molecule_env(scenario),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "playbook: " + str(REPO / "playbooks" / "site.yml") in proc.stdout + proc.stderr


def test_kind_versions_are_pinned():
    pins = yaml.safe_load((MOLECULE / "kind" / "vars" / "kind.yml").read_text())
    assert re.fullmatch(r"v\d+\.\d+\.\d+", pins["molecule_kind_version"])
    assert re.fullmatch(r"kindest/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}", pins["molecule_kind_node_image"])


def test_make_test_runs_molecule_last():
    makefile = (REPO / "Makefile").read_text()
    tiers = re.search(r"\$\(MAKE\) --no-print-directory (.*?)\n(?!\t  )", makefile, re.S).group(1).split()
    assert tiers[-2:] == ["realserver", "molecule"], tiers
    assert re.search(r"^molecule:.*\n\t.*\$\(MOLECULE\) test -s local$", makefile, re.M)
