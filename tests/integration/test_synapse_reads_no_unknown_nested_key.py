"""Strict mode never calls a key Synapse reads a typo.

The nested key lists (plugins/module_utils/synapse_options.py) come from Synapse's v1.157
schema, which omits keys that the Synapse the chart pins still reads (legacy names, newer
options). This reads Synapse's own config code, as installed from PyPI: in each function
of synapse/config/, a variable bound to `config.get("<section>")` (or `config["<section>"]`)
and the keys looked up on it (`.get("k")`, `["k"]`, `"k" in`). Every such key of a section
strict mode closes must be known, or dev/generate_synapse_options.py must list it.
"""

import ast
import pathlib

import synapse.config

from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_options import NESTED_OPTIONS

CONFIG_DIR = pathlib.Path(synapse.config.__file__).parent


def _literal(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _section_of(value):
    """ "s" for config.get("s", ...) / config["s"] / config.get("s") or {}, else None."""
    if isinstance(value, ast.BoolOp):
        value = value.values[0]
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "get":
        return _literal(value.args[0]) if value.args else None
    if isinstance(value, ast.Subscript):
        return _literal(value.slice)
    return None


def _lookup(node):
    """(variable, key) of var.get("k") / var.pop("k") / var["k"] / "k" in var, else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("get", "pop")
        and node.args
        and isinstance(node.func.value, ast.Name)
    ):
        return node.func.value.id, _literal(node.args[0])
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        return node.value.id, _literal(node.slice)
    if (
        isinstance(node, ast.Compare)
        and isinstance(node.ops[0], ast.In)
        and isinstance(node.comparators[0], ast.Name)
    ):
        return node.comparators[0].id, _literal(node.left)
    return None


def keys_synapse_reads():
    """{section: keys} read in synapse/config/*.py."""
    found = {}
    for path in sorted(CONFIG_DIR.glob("*.py")):
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, ast.FunctionDef):
                continue
            sections = {}
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Assign)
                    and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                ):
                    section = _section_of(node.value)
                    if section:
                        sections[node.targets[0].id] = section
            for node in ast.walk(function):
                lookup = _lookup(node)
                if lookup and lookup[0] in sections and lookup[1]:
                    found.setdefault(sections[lookup[0]], set()).add(lookup[1])
    return found


def test_the_scan_finds_what_it_should():
    """The positive control: sections every Synapse reads this way."""
    found = keys_synapse_reads()
    assert {"smtp_host", "notif_from"} <= found["email"]
    assert "enabled" in found["redis"]


def test_every_key_synapse_reads_in_a_closed_section_is_known():
    missing = {
        section: sorted(keys - NESTED_OPTIONS[section])
        for section, keys in keys_synapse_reads().items()
        if section in NESTED_OPTIONS and keys - NESTED_OPTIONS[section]
    }
    assert not missing, f"add to UNDOCUMENTED_NESTED_OPTIONS in dev/generate_synapse_options.py: {missing}"
