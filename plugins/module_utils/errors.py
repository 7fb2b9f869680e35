# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one base class of the collection's own errors.

Every error module_utils raises on purpose (a mistake in a value the user gave) subclasses
MatrixK8sError, so the plugins' single decorator (plugin_utils/errors.py) can tell them from
bugs: ours become Ansible errors showing the message alone; anything else keeps its traceback.
"""


class MatrixK8sError(ValueError):
    """A value the collection cannot use, described for the person who wrote it.

    The message names the variable or argument at fault and never quotes secret material:
    it may end up in a log.
    """
