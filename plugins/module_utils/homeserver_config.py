# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build a homeserver.yaml from what the roles compute and what the user writes.

Pure Python with no Ansible imports, so the filters, the tests and any future module share
one implementation. Every error is a HomeserverConfigError whose message names the argument
and the dotted path of the offending key: the user must be able to find the line to fix.
"""

import datetime
import difflib
import ipaddress
import re
from collections.abc import Mapping, Sequence

try:
    import yaml
except ImportError:  # ansible-core requires PyYAML; ansible-test imports without it
    yaml = None

from ansible_collections.matrixk8s.synapse.plugins.module_utils.errors import MatrixK8sError
from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_options import (
    KNOWN_OPTIONS,
    NESTED_OPTIONS,
    OPTION_TYPES,
    SYNAPSE_SCHEMA_VERSION,
)

LIST_MERGE_MODES = ("replace", "append")


class HomeserverConfigError(MatrixK8sError):
    """A configuration mistake, described for the person who made it."""


def _plain(value, where):
    """Copy value into plain Python types (dict, list, str, int, float, bool, None).

    Ansible hands filters its own subclasses (tagged strings, AnsibleMapping, ...). Copying
    into the base types keeps the result safe for to_nice_yaml and for Synapse, and means
    the result never shares a mutable object with an input.
    """
    if value is None:
        return None
    # bool before int: bool is an int subclass. str.__str__ and friends return the base
    # type even for a subclass.
    for base in (bool, str, int, float):
        if isinstance(value, base):
            return base(value) if base is not str else str.__str__(value)
    if isinstance(value, Mapping):
        return {_plain(k, where): _plain(v, _join(where, k)) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, (datetime.date, datetime.datetime)):
        # YAML turns an unquoted 2024-01-01 into a date; keep it, YAML writes it back.
        return value
    raise HomeserverConfigError(
        f"{where or 'the value'} holds a {type(value).__name__}, which homeserver.yaml cannot hold"
    )


def _join(prefix, key):
    return f"{prefix}.{key}" if prefix else str(key)


def _yaml_reason(exc):
    """Where and why YAML failed, without quoting the text: it may hold a password."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "cannot be parsed"
    if mark is None:
        return problem
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"


def load_mapping(value, label):
    """Return value as a plain dict: a mapping as is, a YAML string parsed.

    None and an empty YAML string mean "nothing to add" (a group_vars entry whose whole
    body is commented out is None). Anything else is a mistake, reported with label.
    """
    if isinstance(value, str):
        if yaml is None:
            raise HomeserverConfigError(f"{label} is a YAML string, and reading it needs PyYAML")
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise HomeserverConfigError(
                f"{label} is a string but not valid YAML: {_yaml_reason(exc)}"
            ) from None
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise HomeserverConfigError(
                f"{label} must hold a YAML mapping (homeserver.yaml options), "
                f"but its YAML is a {type(value).__name__}"
            )
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise HomeserverConfigError(
            f"{label} must be a mapping or a YAML string holding a mapping, got {type(value).__name__}"
        )
    return _plain(value, "")


def _normalise_protected(protected):
    """Accept a list of dotted paths or a mapping {dotted path: what sets it instead}."""
    if protected is None:
        return {}
    if isinstance(protected, str):
        raise HomeserverConfigError(
            "protected must be a list of dotted key paths or a mapping of them, got a string"
        )
    if isinstance(protected, Mapping):
        return {str(path): (str(owner) if owner else None) for path, owner in protected.items()}
    if isinstance(protected, Sequence):
        return {str(path): None for path in protected}
    raise HomeserverConfigError(
        f"protected must be a list or a mapping of dotted key paths, got {type(protected).__name__}"
    )


def _check_protected(override, protected, label, prefix=""):
    """Fail if override sets, replaces or reaches inside a protected path."""
    for key, value in override.items():
        path = _join(prefix, key)
        for owned, owner in protected.items():
            inside = path == owned or path.startswith(owned + ".")
            replaces_parent = owned.startswith(path + ".") and not isinstance(value, Mapping)
            if inside or replaces_parent:
                instead = f"set {owner} instead" if owner else "it is set by the collection's roles"
                raise HomeserverConfigError(
                    f"{label} sets '{path}', which the collection manages ('{owned}'): {instead}"
                )
        if isinstance(value, Mapping):
            _check_protected(value, protected, label, path)


# Options that turn off the check of other servers' TLS certificates, and the values that are
# safe (the default, or nothing). Refused in every override, strict or not: the collection
# never disables verification. A private CA is trusted by adding it (federation_custom_ca_list,
# which the synapse role sets from matrix_federation_ca), not by switching the check off.
INSECURE_TLS_OPTIONS = {
    # Synapse reads a null as false here, not as "unset".
    "federation_verify_certificates": (True,),
    "federation_certificate_verification_whitelist": (None, []),
    "use_insecure_ssl_client_just_for_testing_do_not_use": (None, False),
}


def _check_insecure(override, label):
    """Fail if override turns off the verification of federation TLS certificates."""
    for key, safe in INSECURE_TLS_OPTIONS.items():
        if key in override and not any(override[key] == v and type(override[key]) is type(v) for v in safe):
            raise HomeserverConfigError(
                f"{label} sets '{key}', which turns off the verification of other servers' TLS "
                "certificates; the collection never does that. To trust a private CA, give it as "
                "matrix_federation_ca (the synapse role adds it to federation_custom_ca_list)"
            )


# JSON schema type names in the words an error message uses (chart_values.py too).
JSON_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def _json_type(value):
    """The JSON type of a plain value; a YAML date counts as the string it was written as."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string"


def _unknown(label, shown, known, parent):
    """The error for key path shown, with the closest of the known names as a hint."""
    name = shown.rsplit(".", 1)[-1] if parent else shown
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" (did you mean {_join(parent, close[0])}?)" if close else ""
    return HomeserverConfigError(
        f"{label} sets '{shown}', which is not a Synapse {SYNAPSE_SCHEMA_VERSION} "
        f"option{hint}. For a module's or an experimental option, pass strict=false."
    )


def _check_value(value, path, shown, label):
    """Check value (the user's, at schema path `path`, written as `shown`) against the
    generated schema data: its type where the schema gives one, the keys of an object whose
    properties the schema fixes, and so on down. None passes: Synapse reads a null option
    as unset."""
    if value is None:
        return
    types = OPTION_TYPES.get(path)
    kind = _json_type(value)
    if types is not None and kind not in types and not (kind == "integer" and "number" in types):
        raise HomeserverConfigError(
            f"{label} sets '{shown}' to {JSON_TYPE_WORDS[kind]}, but Synapse {SYNAPSE_SCHEMA_VERSION} "
            f"expects {' or '.join(JSON_TYPE_WORDS[t] for t in types if t != 'null')} there"
        )
    if isinstance(value, Mapping):
        known = NESTED_OPTIONS.get(path)
        for key, item in value.items():
            if known is not None and str(key) not in known:
                raise _unknown(label, f"{shown}.{key}", known, shown)
            child = f"{path}.{key}"
            if known is None and child not in OPTION_TYPES and child not in NESTED_OPTIONS:
                child = f"{path}.*"
            _check_value(item, child, f"{shown}.{key}", label)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[]", f"{shown}[{index}]", label)


def _check_known(override, label):
    """Strict mode: every key, at every depth where Synapse's schema fixes the keys, is one
    Synapse knows, and every value has a type the schema allows."""
    for key, value in override.items():
        if key not in KNOWN_OPTIONS:
            raise _unknown(label, str(key), KNOWN_OPTIONS, "")
        _check_value(value, str(key), str(key), label)


def _merge(base, override, list_merge):
    """Merge override into a copy of base. Both are plain dicts owned by the caller."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = _merge(current, value, list_merge)
        elif list_merge == "append" and isinstance(current, list) and isinstance(value, list):
            merged[key] = current + value
        else:
            merged[key] = value
    return merged


def homeserver_merge(base, *overrides, list_merge="replace", protected=None, strict=True, names=None):
    """Merge overrides, in order, over base and return a new plain dict.

    names optionally labels the overrides in errors (for example the variable each one came
    from); without it they are "override 1", "override 2", ...
    """
    if list_merge not in LIST_MERGE_MODES:
        raise HomeserverConfigError(
            f"list_merge must be one of {', '.join(LIST_MERGE_MODES)}, got {list_merge!r}"
        )
    if not isinstance(strict, bool):
        raise HomeserverConfigError(f"strict must be true or false, got {strict!r}")
    names = list(names or [])
    owned = _normalise_protected(protected)

    result = load_mapping(base, "the base (argument 1)")
    for index, override in enumerate(overrides, start=1):
        label = f"override {index} (argument {index + 1})"
        if index <= len(names):
            label = f"{names[index - 1]} ({label})"
        mapping = load_mapping(override, label)
        _check_protected(mapping, owned, label)
        _check_insecure(mapping, label)
        if strict:
            _check_known(mapping, label)
        result = _merge(result, mapping, list_merge)
    return result


# A Matrix server name: hostname, IPv4 literal or bracketed IPv6 literal, optional port.
# https://spec.matrix.org/latest/appendices/#server-name
# Hostnames are RFC 1123 names in lower-case ASCII: Kubernetes (Ingress hosts, TLS hosts)
# refuses upper case, and a server name can never change once users exist, so the one
# spelling is chosen here. Every pattern is used with fullmatch ("$" would accept a
# trailing newline). charts/schema/definitions/hostname.json holds the same label grammar.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*", re.ASCII)
_PORT = re.compile(r"[0-9]{1,5}", re.ASCII)
SERVER_NAME_MAX = 255  # the Matrix specification's limit
HOST_MAX = 253  # a DNS name (and a Kubernetes Ingress host) is at most 253 characters
_SERVER_NAME_SHAPE = (
    "a lower-case DNS name such as example.com (labels of at most 63 letters, digits and "
    "'-', at most 255 characters), an IPv4 address or a [bracketed] IPv6 address, "
    "optionally followed by :port (1-65535)"
)


def _dns_name_problem(host, max_length):
    """What is wrong with host as a lower-case DNS name ('' if nothing), without ports."""
    if len(host) > max_length:
        return f"it is {len(host)} characters long, at most {max_length} are allowed"
    long_labels = [label for label in host.split(".") if len(label) > 63]
    if long_labels:
        return f"a label has {len(long_labels[0])} characters, at most 63 are allowed"
    if not host.isascii():
        return "it holds characters outside ASCII (write an IDN in its xn-- form)"
    if _DNS_NAME.fullmatch(host.lower()) and host != host.lower():
        return f"it holds upper-case letters: write it in lower case ({host.lower()})"
    if not _DNS_NAME.fullmatch(host):
        return "labels hold only letters, digits and '-', and neither start nor end with '-'"
    return ""


def _split_port(value):
    """(host, port or None) of a server name; the port is the text after the last ':' that
    follows a bracketed IPv6 literal or a host without other colons."""
    if value.startswith("["):
        close = value.find("]")
        if close != -1 and value[close + 1 : close + 2] == ":":
            return value[: close + 1], value[close + 2 :]
        return value, None
    if value.count(":") == 1:
        host, port = value.split(":")
        return host, port
    return value, None


def _ip_literal_problem(host):
    """None if host is not an IP literal, '' if it is a valid one, else what is wrong."""
    if host.startswith("["):
        if not host.endswith("]"):
            return "a '[' opens an IPv6 literal that no ']' closes"
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            try:
                ipaddress.IPv4Address(host[1:-1])
            except ValueError:
                return "the brackets hold no valid IPv6 address"
            return "an IPv4 address is written without brackets (only IPv6 takes them)"
        return ""
    if re.fullmatch(r"[0-9.]+", host, re.ASCII) and host.count(".") == 3:
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return "it looks like an IPv4 address but is not one"
        return ""
    if ":" in host:
        return "an IPv6 address must be written in brackets, e.g. [2001:db8::1]"
    return None


def checked_server_name(value, name="matrix_server_name"):
    """Return value if it is a valid Matrix server name, else raise naming the variable."""
    if not isinstance(value, str) or not value:
        raise HomeserverConfigError(f"{name} must be a non-empty string, got {value!r}")

    def refuse(reason):
        raise HomeserverConfigError(
            f"{name} {value!r} is not a valid Matrix server name: {reason}; expected {_SERVER_NAME_SHAPE}"
        )

    host, port = _split_port(value)
    if port is not None and not (_PORT.fullmatch(port) and 0 < int(port) < 65536):
        raise HomeserverConfigError(
            f"{name} {value!r} has an invalid port {port!r}: expected 1-65535 in ASCII digits"
        )
    if len(value) > SERVER_NAME_MAX:
        refuse(f"it is {len(value)} characters long, at most {SERVER_NAME_MAX} are allowed")
    ip_problem = _ip_literal_problem(host)
    if ip_problem is None:
        dns_problem = _dns_name_problem(host, SERVER_NAME_MAX)
        if dns_problem:
            refuse(dns_problem)
    elif ip_problem:
        refuse(ip_problem)
    return str.__str__(value)


def checked_host(value, name):
    """Return value if it is a lower-case DNS name without port (an Ingress host, the
    target of a delegation), else raise naming the variable."""
    if not isinstance(value, str) or not value:
        raise HomeserverConfigError(f"{name} must be a non-empty string, got {value!r}")
    problem = _dns_name_problem(value, HOST_MAX)
    if not problem and _ip_literal_problem(value) == "":
        problem = "an IP address cannot be an Ingress host"
    if problem:
        raise HomeserverConfigError(
            f"{name} {value!r} is not a valid host name: {problem}; expected a lower-case DNS "
            f"name such as matrix.example.com (labels of at most 63 letters, digits and '-', "
            f"at most {HOST_MAX} characters, no port)"
        )
    return str.__str__(value)
