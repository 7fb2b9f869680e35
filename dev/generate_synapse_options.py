#!/usr/bin/env python3
"""Turn Synapse's published configuration schema into the option data strict mode checks.

The merge filter's strict mode rejects a key that Synapse does not know and suggests the
closest known one, at the top level and inside every object whose properties the schema
fixes (email, retention, rc_*, ...), and refuses a value of a type the schema does not
allow (max_upload_size: [1]). That data has to ship inside the collection (the schema is
not part of the Synapse wheel), so this script writes it, with the schema's Synapse
version, to plugins/module_utils/synapse_options.py:

  KNOWN_OPTIONS     the top-level option names
  NESTED_OPTIONS    {path: names} of each object with fixed properties
  OPTION_TYPES      {path: JSON types} of each option whose schema gives a type

A path is dotted from the top level; "[]" stands for any item of a list and "*" for any
key of a mapping whose entries share one schema (databases.*). Where the schema is
narrower than Synapse, the data follows Synapse, so that strict mode refuses only what
Synapse would not read:
- the schema's own examples and defaults are valid: a key or a type they show is known
  (the email example sets smtp_port: 587 where the type says string);
- the exceptions below, each with its reason.

Usage:
    dev/generate_synapse_options.py [SCHEMA_YAML] [--check]

--check exits 1 when the committed file differs from what the schema gives (the unit
tests run it, so the data cannot drift from the schema it claims to come from).
"""

import argparse
import json
import pathlib
import re
import sys

import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
_SCHEMA_IN_SHARED = pathlib.Path("shared", "data", "synapse-schema", "synapse-config.schema.yaml")
# ../shared beside the checkout; from a git worktree (../wt/<name>) the nearest one above it.
DEFAULT_SCHEMA = next(
    (p / _SCHEMA_IN_SHARED for p in REPO.parents if (p / _SCHEMA_IN_SHARED).is_file()),
    REPO.parent / _SCHEMA_IN_SHARED,
)
OUTPUT = REPO / "plugins" / "module_utils" / "synapse_options.py"

# Options Synapse reads that its schema does not document. Each needs a reason.
UNDOCUMENTED_OPTIONS = {
    # synapse/config/experimental.py reads this mapping; MSC toggles live in it.
    "experimental_features": "synapse/config/experimental.py",
}

# Keys of fixed objects that Synapse 1.163.2 (the image the chart pins) reads although the
# v1.157 schema does not list them: found by reading synapse/config/ (legacy spellings
# Synapse still accepts or refuses with its own message, and options newer than the
# schema). A key Synapse reads is no typo. tests/integration/
# test_synapse_reads_no_unknown_nested_key.py scans the installed Synapse for more.
UNDOCUMENTED_NESTED_OPTIONS = {
    "account_threepid_delegates": {"email": "synapse/config/registration.py (refused there)"},
    "caches": {
        "expiry_time": "synapse/config/cache.py (the old name of cache_entry_ttl)",
        "track_memory_usage": "synapse/config/cache.py",
    },
    "email": {
        "redact_content": "synapse/config/push.py (the deprecated name of push.include_content)",
    }
    | {
        key: "synapse/config/emailconfig.py (legacy template names and riot_base_url)"
        for key in (
            "add_threepid_template_failure_html",
            "add_threepid_template_html",
            "add_threepid_template_success_html",
            "add_threepid_template_text",
            "already_in_use_template_html",
            "expiry_template_html",
            "expiry_template_text",
            "notif_template_html",
            "notif_template_text",
            "password_reset_template_failure_html",
            "password_reset_template_html",
            "password_reset_template_success_html",
            "password_reset_template_text",
            "registration_template_failure_html",
            "registration_template_html",
            "registration_template_success_html",
            "registration_template_text",
            "riot_base_url",
            "template_dir",
        )
    },
    "oidc_providers[]": {"attribute_requirements": "synapse/config/oidc.py (its own schema lists it)"},
    "presence": {"presence_router": "synapse/config/server.py"},
    "push": {"redact_content": "synapse/config/push.py (read only to warn that it never worked)"},
    "redis": {"username": "synapse/config/redis.py"},
    "saml2_config": {
        "enabled": "synapse/config/saml2.py",
        "mxid_mapping": "synapse/config/saml2.py",
        "mxid_source_attribute": "synapse/config/saml2.py",
    },
    "server_notices": {"system_mxid_localpart": "synapse/config/server_notices.py"},
    "sso": {"template_dir": "synapse/config/sso.py (refused there: moved to templates)"},
}

# Objects the schema describes by example only: their keys belong to a module or library,
# so any key is allowed (and nothing inside is checked).
OPEN_OBJECTS = {
    "media_storage_providers[].config": "the storage provider module's own configuration",
}

_JSON_TYPE_OF = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"))


def _json_type(value):
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return next(name for kind, name in _JSON_TYPE_OF if isinstance(value, kind))


def _accepts(types, value):
    kind = _json_type(value)
    return kind in types or (kind == "integer" and "number" in types)


class _Collector:
    def __init__(self, schema):
        self.defs = schema.get("$defs", {})
        self.objects = {}
        self.types = {}

    def resolve(self, node):
        """node with its $ref (to #/$defs/<name>) merged in; the node's own keys win."""
        if isinstance(node, dict) and "$ref" in node:
            target = dict(self.resolve(self.defs[node["$ref"].rsplit("/", 1)[-1]]))
            target.update({k: v for k, v in node.items() if k != "$ref"})
            return target
        return node

    def node_types(self, node):
        """The JSON types a node allows, or None when it does not say (a branch without type)."""
        node = self.resolve(node)
        if "type" in node:
            return set([node["type"]] if isinstance(node["type"], str) else node["type"])
        branches = node.get("oneOf") or node.get("anyOf")
        if branches:
            found = [self.node_types(branch) for branch in branches]
            return None if any(t is None for t in found) else set().union(*found)
        return None

    def walk(self, node, path, examples):
        node = self.resolve(node)
        if not isinstance(node, dict):
            return
        examples = [*examples, *node.get("examples", [])] + ([node["default"]] if "default" in node else [])
        types = self.node_types(node)
        if types is not None:
            types |= {_json_type(e) for e in examples if not _accepts(types, e)}
            self.types[path] = self.types.get(path, set()) | types
        self.walk_object(node, path, examples)
        for branch in node.get("oneOf", []) + node.get("anyOf", []) + node.get("allOf", []):
            self.walk_object(self.resolve(branch), path, examples)

    def walk_object(self, node, path, examples):
        objects = [e for e in examples if isinstance(e, dict)]
        properties = node.get("properties", {})
        fixed = properties and "additionalProperties" not in node and "patternProperties" not in node
        if fixed and path not in OPEN_OBJECTS:
            shown = {str(key) for example in objects for key in example}
            self.objects[path] = (
                self.objects.get(path, set())
                | set(properties)
                | shown
                | set(UNDOCUMENTED_NESTED_OPTIONS.get(path, {}))
            )
        if path not in OPEN_OBJECTS:
            for key, sub in properties.items():
                self.walk(sub, f"{path}.{key}", [e[key] for e in objects if key in e])
        if isinstance(node.get("additionalProperties"), dict):
            values = [v for e in objects for v in e.values()]
            self.walk(node["additionalProperties"], f"{path}.*", values)
        if isinstance(node.get("items"), dict):
            items = [item for e in examples if isinstance(e, list) for item in e]
            self.walk(node["items"], f"{path}[]", items)


def collect(schema):
    """(top-level names, {path: names}, {path: sorted types}) from the schema."""
    collector = _Collector(schema)
    for name, node in schema["properties"].items():
        collector.walk(node, name, [])
    unused = set(UNDOCUMENTED_NESTED_OPTIONS) - set(collector.objects)
    if unused:
        raise SystemExit(f"UNDOCUMENTED_NESTED_OPTIONS names no fixed object of the schema: {sorted(unused)}")
    top = set(schema["properties"]) | set(UNDOCUMENTED_OPTIONS)
    return sorted(top), collector.objects, {p: sorted(t) for p, t in collector.types.items()}


def _tuple(names):
    """A tuple of strings as ruff format writes it."""
    inner = ", ".join(json.dumps(name) for name in names)
    return f"({inner},)" if len(names) == 1 else f"({inner})"


def render(schema: dict) -> str:
    match = re.search(r"/synapse/(v[0-9][^/]*)/", schema["$id"])
    if not match:
        raise SystemExit(f"cannot find the Synapse version in the schema $id {schema['$id']!r}")
    options, nested, types = collect(schema)
    lines = [
        "# Generated by dev/generate_synapse_options.py from Synapse's configuration schema.",
        "# Do not edit by hand: change the script or the schema and run it again.",
        "",
        f"SYNAPSE_SCHEMA_VERSION = {json.dumps(match.group(1))}",
        f"SYNAPSE_SCHEMA_ID = {json.dumps(schema['$id'])}",
        "",
        "# Top-level homeserver.yaml options Synapse knows.",
        "KNOWN_OPTIONS = frozenset(",
        "    (",
        *(f"        {json.dumps(name)}," for name in options),
        "    )",
        ")",
        "",
        "# The keys of each object whose properties the schema fixes. A path is dotted from the",
        '# top level; "[]" is any item of a list, "*" any key of a mapping.',
        "NESTED_OPTIONS = {",
    ]
    for path in sorted(nested):
        names = sorted(nested[path])
        if len(names) == 1:  # ruff format keeps a one-item tuple on one line
            lines.append(f"    {json.dumps(path)}: frozenset({_tuple(names)}),")
            continue
        lines.append(f"    {json.dumps(path)}: frozenset(")
        lines.append("        (")
        lines.extend(f"            {json.dumps(name)}," for name in names)
        lines.append("        )")
        lines.append("    ),")
    lines += [
        "}",
        "",
        "# The JSON types each option may have, where the schema gives them (paths as above).",
        "OPTION_TYPES = {",
        *(f"    {json.dumps(path)}: {_tuple(types[path])}," for path in sorted(types)),
        "}",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("schema", nargs="?", type=pathlib.Path, default=DEFAULT_SCHEMA)
    parser.add_argument("--check", action="store_true", help="fail if the committed file is stale")
    args = parser.parse_args()

    text = render(yaml.safe_load(args.schema.read_text()))
    if args.check:
        if OUTPUT.read_text() != text:
            print(f"{OUTPUT} is stale: run dev/generate_synapse_options.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
