# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Synapse said about a homeserver.yaml it refused, made safe to print.

The synapse role runs `python -m synapse.config -c homeserver.yaml` in a Job before a new
configuration is rolled out, and quotes the reason when Synapse refuses it. Synapse's
messages name options (`email.notif_from`), but some quote the offending value
(`TypeError: Bad byte size [1]`), and any value of homeserver.yaml may be a secret (the
database password, an SMTP password). So the complaint is cut to Synapse's own reason (no
traceback, no start-up warnings) and every value the configuration holds, and every secret
the caller names, is replaced by <value> before anything is shown.
"""

import re

try:
    import yaml
except ImportError:  # ansible-core requires PyYAML; ansible-test imports without it
    yaml = None

_TRACEBACK = "Traceback (most recent call last):"
# The last line of a traceback: "TypeError: Bad byte size [1]".
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\b.*$")
# Synapse prints a warning block, closed by a line of dashes, before its reason (the
# trusted key servers notice); the reason follows the last such line.
_SEPARATOR = re.compile(r"^-{20,}$")
# Values shorter than this stay: masking "1" or "on" would mask the words around them, and
# a secret that short is no secret. The caller's secrets are masked whatever their length.
_MIN_MASKED = 4
_MAX_LINES = 20
_MAX_LINE = 300
_MASK = "<value>"


def _leaves(node, keys, values):
    if isinstance(node, dict):
        for key, value in node.items():
            keys.add(str(key))
            _leaves(value, keys, values)
    elif isinstance(node, list):
        for item in node:
            _leaves(item, keys, values)
    elif node is not None and not isinstance(node, bool):
        values.add(str(node))


def _reason_lines(log):
    lines = [line.rstrip() for line in (log or "").splitlines()]
    if any(line.strip() == _TRACEBACK for line in lines):
        last = [line.strip() for line in lines if _EXCEPTION_LINE.match(line.strip())]
        return last[-1:]
    separators = [i for i, line in enumerate(lines) if _SEPARATOR.match(line.strip())]
    if separators:
        lines = lines[separators[-1] + 1 :]
    return [line for line in lines if line.strip()]


def synapse_config_complaint(log, homeserver_yaml="", secrets=None):
    """Synapse's reason for refusing a homeserver.yaml, without any value of it.

    log: what `python -m synapse.config` printed (stdout and stderr); homeserver_yaml: the
    text it checked; secrets: further strings never to show (the mounted secrets).
    Returns at most 20 lines; "" when the log holds no reason.
    """
    keys, values = set(), set()
    try:
        _leaves(yaml.safe_load(homeserver_yaml or "") or {}, keys, values)
    except yaml.YAMLError:
        # Not YAML: then every word of it is a value.
        values.update(re.findall(r"\S+", homeserver_yaml or ""))
    masked = {v for v in values if len(v) >= _MIN_MASKED and v not in keys}
    masked |= {str(s) for s in (secrets or []) if s}
    # Longest first, so a value containing a shorter one is masked whole.
    ordered = sorted(masked, key=len, reverse=True)
    out = []
    for line in _reason_lines(log)[:_MAX_LINES]:
        for value in ordered:
            line = line.replace(value, _MASK)
        out.append(line[:_MAX_LINE])
    return "\n".join(out)
