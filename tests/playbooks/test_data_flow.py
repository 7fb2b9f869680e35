"""The roles' data flows one way (docs/architecture.md, "How the roles read the cluster").

Static scans of roles/*:

- vars/main.yml holds only pure derivations of inputs: none of its expressions names a
  fact that a task sets (set_fact or register), so a line there can be read without
  knowing the task order. What a role reads from the cluster is a fact set by the task
  that reads it.
- No role reads another role's variables: the expressions of a role's files name no
  variable with another role's prefix (public `synapse_*` or internal `_synapse_*`).
  Values two roles share are `matrix_*` inputs that both read.

Each scan is also shown to fail on a planted offender.
"""

import pathlib
import re

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "tasks").is_dir())
# A role's variables start with its name (public) or _<name>_ (internal).
PREFIX = {role: role.lstrip("_") + "_" for role in ROLES}
# Keys whose string value is a bare Jinja expression.
CONDITIONALS = {"when", "that", "failed_when", "changed_when", "until", "loop"}
# Task keys that are not a module (set_fact and register are looked at separately).
IDENTIFIER = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


def _expressions(node, key=None):
    """The Jinja expressions in a parsed YAML document (templated strings and conditionals)."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _expressions(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _expressions(item, key)
    elif isinstance(node, str):
        if key in CONDITIONALS and "{{" not in node:
            yield node
        for groups in re.findall(r"\{\{(.*?)\}\}|\{%(.*?)%\}", node, re.DOTALL):
            yield "".join(groups)


def _names(expression):
    """Identifiers an expression reads (string literals and attribute names left out)."""
    code = re.sub(r"'[^']*'|\"[^\"]*\"", "''", expression)
    return set(IDENTIFIER.findall(code))


def _load(path):
    if path.suffix == ".j2":
        return path.read_text()
    return yaml.safe_load(path.read_text())


def _tasks(node):
    for task in node or []:
        if isinstance(task, dict):
            yield task
            for key in ("block", "rescue", "always"):
                yield from _tasks(task.get(key))


def facts_set_by_tasks():
    """Every fact a task of any role sets: set_fact keys and register names."""
    facts = set()
    for path in (REPO / "roles").glob("*/tasks/*.yml"):
        for task in _tasks(yaml.safe_load(path.read_text())):
            args = task.get("ansible.builtin.set_fact")
            if isinstance(args, dict):
                facts.update(k for k in args if "{{" not in k)
            if "register" in task:
                facts.add(task["register"])
            # _common's read sets the fact its caller names.
            for action in ("ansible.builtin.include_role", "ansible.builtin.import_role"):
                if action in task and "_common_read_fact" in (task.get("vars") or {}):
                    facts.add(task["vars"]["_common_read_fact"])
    return facts


def vars_reading_facts(vars_document, facts):
    """{variable: facts its expression names} for a vars/main.yml document."""
    found = {}
    for name, value in (vars_document or {}).items():
        read = set()
        for expression in _expressions(value):
            read |= _names(expression) & facts
        if read:
            found[name] = sorted(read)
    return found


def role_files(role):
    base = REPO / "roles" / role
    for sub in ("tasks", "vars", "defaults", "templates", "handlers"):
        yield from sorted((base / sub).glob("*.y*ml"))
        yield from sorted((base / sub).glob("*.j2"))


def foreign_names(role, document):
    """Names in the document's expressions that carry another role's prefix."""
    others = [p for r, p in PREFIX.items() if r != role]
    found = set()
    for expression in _expressions(document):
        for name in _names(expression):
            bare = name.lstrip("_")
            if any(bare.startswith(prefix) for prefix in others):
                found.add(name)
    return found


FACTS = facts_set_by_tasks()


def test_the_scans_see_the_roles():
    assert {"_common", "postgres", "signing_key", "synapse", "well_known"} <= set(ROLES)
    # Facts from set_fact, register and the _common read.
    assert {"_synapse_homeserver_merged", "_synapse_stored", "_postgres_cluster", "_synapse_cluster"} <= FACTS
    assert "_common_chart_plan" in FACTS


@pytest.mark.parametrize("role", [r for r in ROLES if (REPO / "roles" / r / "vars" / "main.yml").is_file()])
def test_vars_main_reads_no_fact(role):
    document = yaml.safe_load((REPO / "roles" / role / "vars" / "main.yml").read_text())
    assert vars_reading_facts(document, FACTS) == {}


def test_a_vars_expression_that_reads_a_fact_is_found():
    planted = {
        "_synapse_ok": "{{ synapse_release_name }}-x",
        "_synapse_bad": "{{ _synapse_stored.database_password | default('') }}",
        "_synapse_text": "'_synapse_stored' is only a word in a string: {{ 'x' }}",
    }
    assert vars_reading_facts(planted, FACTS) == {"_synapse_bad": ["_synapse_stored"]}


@pytest.mark.parametrize("role", ROLES)
def test_no_role_reads_another_roles_variables(role):
    offenders = {}
    for path in role_files(role):
        found = foreign_names(role, _load(path))
        if found:
            offenders[str(path.relative_to(REPO))] = sorted(found)
    specs = REPO / "roles" / role / "meta" / "argument_specs.yml"
    if specs.is_file():
        defaults = [
            option.get("default")
            for entry in yaml.safe_load(specs.read_text())["argument_specs"].values()
            for option in (entry.get("options") or {}).values()
        ]
        found = foreign_names(role, defaults)
        if found:
            offenders[str(specs.relative_to(REPO))] = sorted(found)
    assert offenders == {}


def test_a_foreign_variable_is_found():
    document = [
        {"name": "uses {{ synapse_public_host }}", "when": "well_known_mode == 'nginx'"},
        {"ansible.builtin.debug": {"msg": "{{ well_known_synapse_host }} {{ _postgres_values.image }}"}},
        {"ansible.builtin.debug": {"msg": "{{ x | matrixk8s.synapse.signing_key_id }} {{ 'synapse_x' }}"}},
    ]
    assert foreign_names("well_known", document) == {"synapse_public_host", "_postgres_values"}


# ---- roles/_common: all cluster access goes through it ----

COMMON = REPO / "roles" / "_common"
CREDENTIALS = ("matrix_kubeconfig", "matrix_kube_context", "matrix_helm_binary")


def _calls_of_common():
    """{entry point: roles (or playbooks) that call it} over every role's task files and the
    playbooks' tasks (the namespace's lock and its release are the playbooks' business)."""
    calls = {}
    sources = [
        (path, yaml.safe_load(path.read_text()), path.parts[-3])
        for path in (REPO / "roles").glob("*/tasks/*.yml")
    ]
    for path in (REPO / "playbooks").glob("*.yml"):
        for play in yaml.safe_load(path.read_text()) or []:
            sources.append((path, play.get("tasks"), path.name))
    for _path, tasks, caller in sources:
        for task in _tasks(tasks):
            include = task.get("ansible.builtin.include_role") or {}
            if include.get("name") == "matrixk8s.synapse._common":
                calls.setdefault(include["tasks_from"], set()).add(caller)
    return calls


def test_every_common_task_file_is_a_described_entry_point_that_a_role_calls():
    specs = yaml.safe_load((COMMON / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    files = {p.stem for p in (COMMON / "tasks").glob("*.yml")}
    assert set(specs) == files
    for name, entry in specs.items():
        assert entry.get("short_description", "").startswith("Internal."), name
        for option, spec in entry["options"].items():
            assert option.startswith("_common_"), (name, option)
            assert spec.get("description"), (name, option)
    assert set(_calls_of_common()) == files, _calls_of_common()


def test_only_common_reaches_the_cluster_and_names_the_credentials():
    """The other roles call no kubernetes.core module or lookup and never name the kube
    credentials: _common holds them once (lookup arguments and module_defaults)."""
    offenders = []
    for role in ROLES:
        if role == "_common":
            continue
        for path in role_files(role):
            text = path.read_text()
            for needle in (
                "kubernetes.core.",
                "matrix_kubeconfig",
                "matrix_kube_context",
                "matrix_helm_binary",
            ):
                if needle in text:
                    offenders.append(f"{path.relative_to(REPO)}: {needle}")
    assert offenders == []
    common = "".join(p.read_text() for p in role_files("_common"))
    # In expressions (not comments): the lookup, k8s and helm auth, and the failure explanation.
    assert common.count("matrix_kubeconfig | default(") == 4
