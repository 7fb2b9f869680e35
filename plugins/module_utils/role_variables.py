# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Misspelt role variables: a name with a role's public prefix that the role does not take.

Ansible ignores a variable no role reads, so `synapse_homserver:` in group_vars would be
dropped without a word. The roles compare the names the host has (inventory, extra vars,
facts) that start with their prefix against their argument_specs options.
"""

import difflib
from collections.abc import Iterable

from ansible_collections.matrixk8s.synapse.plugins.module_utils.errors import MatrixK8sError


class RoleVariablesError(MatrixK8sError):
    """The names to compare are not lists of names."""


def unknown_role_variables(names, prefix, known):
    """Return "name (did you mean X?)" for each name with prefix that known lacks, sorted."""
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise RoleVariablesError(f"names must be a list of variable names, got {type(names).__name__}")
    if isinstance(known, (str, bytes)) or not isinstance(known, Iterable):
        raise RoleVariablesError(f"known must be a list of option names, got {type(known).__name__}")
    known = sorted({str(name) for name in known})
    found = []
    for name in sorted({str(name) for name in names}):
        if not name.startswith(prefix) or name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        found.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return found
