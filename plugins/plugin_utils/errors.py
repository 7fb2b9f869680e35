# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way the collection's filter, lookup and test plugins report a bad value.

    @raises_as(AnsibleFilterError)                 message as module_utils wrote it
    @raises_as(AnsibleFilterError, named=True)     "<function name>: <message>"

module_utils raises MatrixK8sError (module_utils/errors.py) with a message that already
names the variable at fault. The wrapper re-raises it as the given Ansible error carrying
that message only: the input is never added (it may be a password or a signing key), and
the chain is cut (`from None`) so Ansible does not print the original exception after it.
named=True puts the plugin's name first, for messages about an argument rather than a
variable (for example "duration_seconds: not a duration such as 10m").
"""

import functools

from ansible_collections.matrixk8s.synapse.plugins.module_utils.errors import MatrixK8sError


def raises_as(ansible_error, named=False):
    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except MatrixK8sError as exc:
                message = f"{function.__name__}: {exc}" if named else str(exc)
                raise ansible_error(message) from None

        return wrapper

    return decorate
