# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Synapse signing keys: generate, validate, derive the verify key, retire for rotation.

A Synapse signing key file holds one line per key, `<algorithm> <version> <seed>`, for
example `ed25519 a_Zx9q <43 characters of unpadded base64>`, where the seed is the 32-byte
Ed25519 private key. The public "verify key" other servers fetch from
/_matrix/key/v2/server is derived from that seed. Losing the seed breaks federation, which
is why the roles generate it once and keep it.
"""

import base64
import binascii
import re
import secrets
import string

from ansible_collections.matrixk8s.synapse.plugins.module_utils.errors import MatrixK8sError

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError:  # ansible-core requires cryptography; ansible-test imports without it
    Ed25519PrivateKey = None

ALGORITHM = "ed25519"
SEED_BYTES = 32
# Synapse's own generator names keys "a_" + 4 random characters; a version may be any
# run of letters, digits and underscores (the Matrix key ID grammar).
_KEY_ID_ALPHABET = string.ascii_letters + string.digits
_VERSION = re.compile(r"[A-Za-z0-9_]{1,255}")


class SigningKeyError(MatrixK8sError):
    """A malformed or unusable signing key, described without revealing it."""


def unpadded_b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _decode_b64(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded, validate=True)


def signing_key_generate(algorithm=ALGORITHM, key_id=None) -> str:
    """Return a new key line; the seed comes from the operating system's CSPRNG."""
    if algorithm != ALGORITHM:
        raise SigningKeyError(f"only {ALGORITHM} signing keys exist in Matrix (algorithm)")
    if key_id is None:
        key_id = "a_" + "".join(secrets.choice(_KEY_ID_ALPHABET) for _position in range(4))
    elif not _VERSION.fullmatch(str(key_id)):
        raise SigningKeyError("key_id may hold only 1 to 255 letters, digits and underscores")
    return f"{ALGORITHM} {key_id} {unpadded_b64(secrets.token_bytes(SEED_BYTES))}"


_POSITIONS = ("first", "second", "third")
_SHAPE = f"'{ALGORITHM} <version> <base64 seed>'"


def _looks_like_seed(text):
    """True if text decodes as base64 to exactly one seed (so it must never be shown)."""
    try:
        return len(_decode_b64(text)) == SEED_BYTES
    except (binascii.Error, ValueError):
        return False


def _field_problem(name, position, field, expected):
    """Describe a bad field by position, expected shape and length, never by its text.

    A field in the wrong place may be the seed (`<seed> ed25519 a_x`), so no field of the
    line is ever quoted, whatever the position.
    """
    hint = ""
    if _looks_like_seed(field):
        hint = f" (it has the length and shape of a seed: the order is {_SHAPE})"
    return (
        f"{name}: the {_POSITIONS[position]} field must be {expected}; "
        f"it is another {len(field)}-character text{hint}"
    )


def signing_key_problem(line, name="signing_key_value") -> str:
    """Return what is wrong with a key line ('' when nothing is), without quoting it.

    The roles call this under no_log and show only its answer, which is built from fixed
    words, field positions and lengths.
    """
    if not isinstance(line, str):
        return f"{name} must be a string, got {type(line).__name__}"
    lines = [part for part in line.strip().splitlines() if part.strip()]
    if len(lines) != 1:
        return f"{name} must hold exactly one key line {_SHAPE}, found {len(lines)} lines"
    fields = lines[0].split()
    if len(fields) != 3:
        return f"{name} must have three fields {_SHAPE}, found {len(fields)}"
    algorithm, version, seed_b64 = fields
    if algorithm != ALGORITHM:
        return _field_problem(name, 0, algorithm, f"'{ALGORITHM}'")
    if not _VERSION.fullmatch(version) or _looks_like_seed(version):
        return _field_problem(name, 1, version, "a key version of 1 to 255 letters, digits and underscores")
    try:
        seed = _decode_b64(seed_b64)
    except (binascii.Error, ValueError):
        return f"{name}: the third field (the seed, {len(seed_b64)} characters) is not valid base64"
    if len(seed) != SEED_BYTES:
        return f"{name}: the seed must decode to {SEED_BYTES} bytes, it decodes to {len(seed)}"
    return ""


def parse(line, name="signing_key_value"):
    """Return (version, seed bytes) of a key line, or raise naming the variable.

    The message never repeats any field of the line: it may end up in a log.
    """
    problem = signing_key_problem(line, name)
    if problem:
        raise SigningKeyError(problem)
    version, seed_b64 = line.split()[1:]
    return version, _decode_b64(seed_b64)


def signing_key_canonical(line, name="signing_key_value") -> str:
    """Return the canonical form of a valid key line (unpadded seed, single spaces)."""
    version, seed = parse(line, name)
    return f"{ALGORITHM} {version} {unpadded_b64(seed)}"


def signing_key_id(line, name="signing_key_value") -> str:
    version = parse(line, name)[0]
    return f"{ALGORITHM}:{version}"


def signing_key_verify_key(line, name="signing_key_value") -> str:
    """Return the public key as Matrix publishes it: unpadded base64 of 32 raw bytes."""
    if Ed25519PrivateKey is None:
        raise SigningKeyError("deriving a verify key needs the Python package cryptography")
    seed = parse(line, name)[1]
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return unpadded_b64(public.public_bytes(Encoding.Raw, PublicFormat.Raw))


def signing_key_old_entry(line, expired_ts, name="signing_key_value") -> dict:
    """Return the old_signing_keys entry that keeps a retired key verifiable.

    expired_ts is when the key stopped being used, in milliseconds since the epoch:
    other servers accept events it signed before then.
    """
    if isinstance(expired_ts, str) and expired_ts.isdigit():
        expired_ts = int(expired_ts)  # templating can hand over "1700000000000"
    if isinstance(expired_ts, bool) or not isinstance(expired_ts, int) or expired_ts <= 0:
        raise SigningKeyError(f"expired_ts must be a positive integer of milliseconds, got {expired_ts!r}")
    entry = {"key": signing_key_verify_key(line, name), "expired_ts": int(expired_ts)}
    return {signing_key_id(line, name): entry}
