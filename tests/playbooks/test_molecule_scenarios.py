"""The Molecule scenarios stay runnable: kind cannot run here (no Docker), local runs in
`make molecule`, node in `make node-test` (where a real node can run); all are checked here
without a cluster.

Each scenario is a delta over .config/molecule/config.yml, merged here as Molecule merges it
(its own merge function). Molecule's own schema and `molecule syntax` judge each merged
config, and Molecule's output has no CRITICAL line; every scenario playbook passes
ansible-playbook --syntax-check, local and kind share one verify directory (no copies),
node's inventory is exactly inventories/local under inventories/local-node, and kind's pins
stay pins. Scenario "default" only syntax-checks site.yml: it exists so that Molecule, which
loads a scenario named default before every run, finds one (see its molecule.yml).
"""

import json
import os
import re
import subprocess
import tempfile

import pytest
import yaml
from molecule.util import merge_dicts
from playbooklib import ANSIBLE_PLAYBOOK, REPO, VENV_BIN

SCENARIOS = ("local", "kind", "node", "federation")
# Plus "default": a syntax check only, there so that Molecule finds the scenario it looks for.
ALL_SCENARIOS = [*SCENARIOS, "default"]
MOLECULE = REPO / "molecule"
BASE_CONFIG = REPO / ".config" / "molecule" / "config.yml"
# The inventory each scenario converges with: node's is local's, with local-node's images;
# federation's has its own hosts (two homeservers) and layers both in its group_vars.
INVENTORIES = {
    "local": ["local"],
    "kind": ["kind"],
    "node": ["local", "local-node"],
    "federation": ["local-federation"],
}


def _own(scenario):
    """What the scenario's molecule.yml itself says (its delta)."""
    return yaml.safe_load((MOLECULE / scenario / "molecule.yml").read_text())


def _config(scenario):
    """The scenario's configuration as Molecule sees it: the base with the delta over it."""
    return merge_dicts(yaml.safe_load(BASE_CONFIG.read_text()), _own(scenario))


def _leaves(tree, path=()):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, (*path, key))
    else:
        yield path, tree


def _molecule_env(ansible_home):
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["ANSIBLE_HOME"] = str(ansible_home)
    env["MOLECULE_PROJECT_DIRECTORY"] = str(REPO)
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


def _run_for(scenario, command):
    """A command from the repository root in the scenario's Molecule environment. Molecule's
    ephemeral files go to a new directory under the ignored .local/ (not ~/.ansible, and apart
    from a real `make molecule` run's), removed afterwards: state kept from an earlier run
    makes Molecule warn that an edited molecule.yml was "modified since the scenario was
    created", which is no finding of this check."""
    parent = REPO / ".local" / "molecule"
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"syntax-check-{scenario}-", dir=parent) as ansible_home:
        return subprocess.run(
            command,
            cwd=REPO,
            env=_molecule_env(ansible_home),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def test_the_scenarios_exist():
    assert {p.parent.name for p in MOLECULE.glob("*/molecule.yml")} == set(ALL_SCENARIOS)


@pytest.mark.parametrize("scenario", ALL_SCENARIOS)
def test_scenario_repeats_nothing_of_the_base(scenario):
    """A scenario file holds only deltas: no setting it spells out equals the base's."""
    base = dict(_leaves(yaml.safe_load(BASE_CONFIG.read_text())))
    repeated = [path for path, value in _leaves(_own(scenario)) if base.get(path, object()) == value]
    assert not repeated, repeated


def test_default_scenario_only_checks_syntax():
    """`molecule test` without -s runs scenario default: it must touch no cluster."""
    assert _config("default")["scenario"]["test_sequence"] == ["syntax"]
    assert [p.name for p in (MOLECULE / "default").iterdir()] == ["molecule.yml"]


@pytest.mark.parametrize("scenario", ALL_SCENARIOS)
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
    first = REPO / "inventories" / INVENTORIES[scenario][0]
    assert (MOLECULE / scenario / links["hosts"]).resolve() == first / "hosts.yml"
    if scenario == "node":
        layers = sorted((MOLECULE / scenario / links["group_vars"] / "matrix").iterdir())
        assert [p.resolve() for p in layers] == [
            REPO / "inventories" / name / "group_vars" / "matrix" for name in INVENTORIES[scenario]
        ]
    else:
        assert (MOLECULE / scenario / links["group_vars"]).resolve() == first / "group_vars"
    if scenario == "federation":
        assert (MOLECULE / scenario / links["host_vars"]).resolve() == first / "host_vars"
    if scenario in ("local", "kind"):  # molecule/verify reads which inventory it checks
        assert config["provisioner"]["env"]["MATRIXK8S_INVENTORY"] == scenario
    assert config["verifier"]["name"] == "testinfra"
    assert config["verifier"]["options"]["hosts"] == "local://"
    sequence = config["scenario"]["test_sequence"]
    assert sequence.index("converge") < sequence.index("idempotence") < sequence.index("verify")
    assert sequence[-1] == "destroy"


def test_scenarios_share_one_verify_directory():
    """local and kind judge the same thing with the same tests; node's are tests/node,
    federation's tests/federation."""
    directories = {(MOLECULE / s / _config(s)["verifier"]["directory"]).resolve() for s in ("local", "kind")}
    assert len(directories) == 1
    (verify,) = directories
    tests = sorted(p.name for p in verify.glob("test_*.py"))
    assert len(tests) >= 5, tests
    for scenario in ("node", "federation"):
        directory = (MOLECULE / scenario / _config(scenario)["verifier"]["directory"]).resolve()
        assert directory == REPO / "tests" / scenario
    for scenario in SCENARIOS:
        assert not list((MOLECULE / scenario).glob("test_*.py")), f"{scenario} has its own copy"


def test_node_scenario_inventory_is_local_under_local_node(tmp_path):
    """What Molecule builds for scenario node (its links in one directory) gives localhost
    exactly the variables of `-i inventories/local -i inventories/local-node`."""
    links = _config("node")["provisioner"]["inventory"]["links"]
    built = tmp_path / "inventory"
    built.mkdir()
    for name, source in links.items():
        (built / name.rstrip("/")).symlink_to((MOLECULE / "node" / source).resolve())

    def host_vars(*inventories):
        args = [arg for inv in inventories for arg in ("-i", str(inv))]
        proc = subprocess.run(
            [str(VENV_BIN / "ansible-inventory"), *args, "--host", "localhost"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return json.loads(proc.stdout)

    layered = host_vars(*(REPO / "inventories" / name for name in INVENTORIES["node"]))
    assert host_vars(built) == layered
    assert layered["synapse_image_pull_policy"] == "Never"


@pytest.mark.parametrize(
    "playbook",
    sorted(str(p.relative_to(MOLECULE)) for p in MOLECULE.glob("*/*.yml") if p.name != "molecule.yml"),
)
def test_scenario_playbook_passes_syntax_check(playbook):
    scenario = playbook.split("/")[0]
    inventory = f"inventories/{INVENTORIES[scenario][0]}"
    proc = _run_for(scenario, [ANSIBLE_PLAYBOOK, "-i", inventory, "--syntax-check", str(MOLECULE / playbook)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("scenario", ALL_SCENARIOS)
def test_molecule_syntax_step(scenario):
    """Molecule itself loads the scenario and syntax-checks its converge (no cluster needed),
    and says nothing a newcomer would read as a failure (Molecule logs CRITICAL when it finds
    no scenario named default, although the run goes on)."""
    proc = _run_for(scenario, [str(VENV_BIN / "molecule"), "syntax", "-s", scenario])
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "playbook: " + str(REPO / "playbooks" / "site.yml") in output
    alarming = [line for line in output.splitlines() if "CRITICAL" in line or "has been modified" in line]
    assert not alarming, alarming


def test_kind_versions_are_pinned():
    pins = yaml.safe_load((MOLECULE / "kind" / "vars" / "kind.yml").read_text())
    assert re.fullmatch(r"v\d+\.\d+\.\d+", pins["molecule_kind_version"])
    assert re.fullmatch(r"kindest/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}", pins["molecule_kind_node_image"])


def test_make_test_runs_molecule_last():
    makefile = (REPO / "Makefile").read_text()
    tiers = re.search(r"\$\(MAKE\) --no-print-directory (.*?)\n(?!\t  )", makefile, re.S).group(1).split()
    assert tiers[-2:] == ["realserver", "molecule"], tiers
    assert re.search(r"^molecule:.*\n\t.*\$\(MOLECULE\) test -s local$", makefile, re.M)
