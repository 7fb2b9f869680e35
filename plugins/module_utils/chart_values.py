# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the values a role would pass to Helm against the chart's values.schema.json, offline.

Helm validates the values only when it installs, which in a run comes after the database
password, the signing key and homeserver.yaml are written: a value the chart refuses
(a port of 70000) then leaves a half-applied deployment. The roles call this in their
validate step instead, with no cluster: the chart's values.yaml, the role's values merged
over it as Helm merges them, then the chart's schema.

Errors name the role variable behind a bad value (from the caller's map of chart value
paths to variables), else the `<role>_chart_values` entry that set it, else the chart
value path; they say what the schema expects and never quote a value (extraEnv or an
annotation may hold a secret).
"""

import difflib
import json
import os
import re

try:
    import yaml
except ImportError:  # ansible-core requires PyYAML; ansible-test imports without it
    yaml = None

try:
    import jsonschema
except ImportError:  # a controller requirement of the collection (see awx/execution-environment.yml)
    jsonschema = None

from ansible_collections.matrixk8s.synapse.plugins.module_utils.errors import MatrixK8sError
from ansible_collections.matrixk8s.synapse.plugins.module_utils.homeserver_config import (
    JSON_TYPE_WORDS as _JSON_TYPES,
)


class ChartValuesError(MatrixK8sError):
    """Values a chart's schema refuses, described by the role variable behind them."""


def _load_chart_file(chart_path, name, loader):
    path = os.path.join(chart_path, name)
    try:
        with open(path, encoding="utf-8") as handle:
            return loader(handle)
    except OSError as exc:
        raise ChartValuesError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:  # json.JSONDecodeError and yaml.YAMLError are ValueErrors
        raise ChartValuesError(f"{path} cannot be parsed: {type(exc).__name__}") from None


def _plain(values):
    """Plain JSON types, as Helm sees the values (it sends them as YAML/JSON): Ansible's
    tagged strings and mappings become str and dict, a date its text."""
    return json.loads(json.dumps(values, default=str))


def coalesce(defaults, values):
    """values merged over defaults as Helm merges user values over values.yaml: mappings
    key by key, anything else replaced, and null deletes the key."""
    merged = dict(defaults)
    for key, value in values.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = coalesce(merged[key], value)
        else:
            merged[key] = value
    return merged


def _dotted(path):
    """'ingress.tls[0].hosts' from jsonschema's deque of keys and indices."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _without_indices(dotted):
    return re.sub(r"\[[0-9]+\]", "", dotted)


def _sets(mapping, dotted):
    """True when the mapping (a <role>_chart_values) sets the value at dotted or a parent
    of it (list indices ignored: a list is set as a whole)."""
    node = mapping
    for key in _without_indices(dotted).split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
        if not isinstance(node, dict):
            return True
    return True


def _who(dotted, variables, overrides):
    """The variable behind the chart value at dotted: an override that sets it (the user
    wrote it there), else the longest mapped path it lies under, else the chart value."""
    for name, mapping in overrides.items():
        if isinstance(mapping, dict) and _sets(mapping, dotted):
            return f"{name}.{dotted}"
    plain = _without_indices(dotted)
    best = None
    for path, variable in variables.items():
        if (plain == path or plain.startswith(path + ".")) and (best is None or len(path) > len(best[0])):
            best = (path, variable)
    if best:
        return f"{best[1]} (chart value {dotted})"
    return f"chart value {dotted}"


def _types(expected):
    names = [expected] if isinstance(expected, str) else list(expected)
    return " or ".join(_JSON_TYPES.get(name, name) for name in names)


def _type_of(instance):
    if isinstance(instance, bool):
        return "boolean"
    if isinstance(instance, int):
        return "integer"
    for name, kind in (("number", float), ("string", str), ("object", dict), ("array", list)):
        if isinstance(instance, kind):
            return name
    return "null"


def _expected(error):
    """What the schema wanted, in words, from the rule alone (never the value)."""
    rule, wanted = error.validator, error.validator_value
    words = {
        "type": lambda: f"must be {_types(wanted)}, not {_JSON_TYPES[_type_of(error.instance)]}",
        "maximum": lambda: f"must be at most {wanted}",
        "minimum": lambda: f"must be at least {wanted}",
        "exclusiveMaximum": lambda: f"must be less than {wanted}",
        "exclusiveMinimum": lambda: f"must be more than {wanted}",
        "enum": lambda: "must be one of " + ", ".join(json.dumps(v) for v in wanted),
        "const": lambda: f"must be {json.dumps(wanted)}",
        "pattern": lambda: f"must match the pattern {wanted}",
        "minLength": lambda: f"must be at least {wanted} characters long",
        "maxLength": lambda: f"must be at most {wanted} characters long",
        "minItems": lambda: f"must hold at least {wanted} item(s)",
        "maxItems": lambda: f"must hold at most {wanted} item(s)",
        "uniqueItems": lambda: "must not repeat an item",
        "minProperties": lambda: f"must hold at least {wanted} key(s)",
        "format": lambda: f"must be in the format {wanted}",
    }
    if rule in words:
        return words[rule]()
    if rule in ("oneOf", "anyOf") and error.context:
        return _expected(jsonschema.exceptions.best_match(error.context))
    description = (error.schema or {}).get("description") if isinstance(error.schema, dict) else None
    return f"fails the chart schema's rule {rule}" + (f" ({description})" if description else "")


def _describe(error, variables, overrides, chart):
    where = _dotted(error.absolute_path)
    if error.validator == "required":
        missing = [key for key in error.validator_value if key not in (error.instance or {})]
        return "; ".join(
            f"{_who(_dotted([*error.absolute_path, key]), variables, overrides)} is missing "
            f"(the {chart} chart requires it; null removes a value)"
            for key in missing
        )
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted((error.schema or {}).get("properties", {}))
        parts = []
        for key in sorted(set(error.instance) - set(known)):
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f" (did you mean {_dotted([*error.absolute_path, close[0]])}?)" if close else ""
            parts.append(
                f"{_who(_dotted([*error.absolute_path, key]), variables, overrides)} "
                f"is not a value of the {chart} chart{hint}"
            )
        return "; ".join(parts)
    return f"{_who(where, variables, overrides)} {_expected(error)}"


def checked_chart_values(values, chart_path, variables=None, overrides=None):
    """Return values if the chart at chart_path accepts them, else raise ChartValuesError.

    values: what the role passes to Helm (placeholders of the right type for what it
    learns only from the cluster). variables: {chart value path: role variable}, such as
    {'database.port': 'synapse_database_port'}; a path covers what lies under it.
    overrides: {variable name: mapping} of the user's raw chart values merged over the
    role's (e.g. {'synapse_chart_values': {...}}), named when they set the bad value.
    """
    if jsonschema is None or yaml is None:
        raise ChartValuesError(
            "checking the chart values needs the Python packages jsonschema and PyYAML on the "
            "controller (see the collection's README, Requirements)"
        )
    if not isinstance(values, dict):
        raise ChartValuesError(f"the chart values must be a mapping, got {type(values).__name__}")
    chart_path = str(chart_path)
    chart = os.path.basename(os.path.normpath(chart_path))
    defaults = _load_chart_file(chart_path, "values.yaml", yaml.safe_load) or {}
    schema = _load_chart_file(chart_path, "values.schema.json", json.load)
    merged = coalesce(_plain(defaults), _plain(values))
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(merged), key=lambda e: (_dotted(e.absolute_path), e.validator))
    if not errors:
        return values
    found = []
    for error in errors:
        text = _describe(error, dict(variables or {}), dict(overrides or {}), chart)
        if text not in found:
            found.append(text)
    raise ChartValuesError(
        f"the {chart} chart would refuse these values (checked against {chart}/values.schema.json "
        f"before anything is written): " + "; ".join(found) + "."
    )
