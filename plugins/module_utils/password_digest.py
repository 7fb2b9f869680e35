# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A keyed digest of a password, to tell later whether it changed without storing it.

The synapse role records, per admin account, the digest of the password it last applied
(in a ConfigMap, which is not a Secret): a bare sha256 there would let anyone who can read
ConfigMaps test guesses offline. An HMAC keyed with a secret cannot be tested without the
key. The role keys it with Synapse's registration_shared_secret: whoever holds that key can
register admin accounts anyway, so the digest tells them nothing they could not take.
The user ID is part of the message, so two accounts with one password get unrelated digests.
"""

import hashlib
import hmac

from ansible_collections.matrixk8s.synapse.plugins.module_utils.errors import MatrixK8sError

# Domain separation: this key also signs registration requests (HMAC-SHA1, other messages).
_CONTEXT = b"matrixk8s.synapse admin password v1\x00"


class PasswordDigestError(MatrixK8sError):
    """An argument password_digest cannot use (never quoted: it may be a secret)."""


def password_digest(password, key, user_id):
    """'hmac-sha256:<hex>' of user_id and password under key (all non-empty strings).

    The password is stripped first, as register_new_matrix_user strips its password file.
    """
    for name, value in (("password", password), ("key", key), ("user_id", user_id)):
        if not isinstance(value, str) or not value.strip():
            raise PasswordDigestError(f"the {name} must be a non-empty string")
    message = _CONTEXT + user_id.encode() + b"\x00" + password.strip().encode()
    return "hmac-sha256:" + hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
