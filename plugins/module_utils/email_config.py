# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Synapse's `email:` section from the synapse role's input synapse_email.

synapse_email says what an operator knows about their mail relay (host, port, TLS mode,
user, the Secret holding the password, the sender); this module checks it and writes the
options Synapse 1.163 reads (synapse/config/emailconfig.py):

    tls        enable_tls  require_transport_security  force_tls  default smtp_port
    starttls   true        true                        false      587
    tls        true        false                       true       465
    none       false       false                       false      25

Synapse 1.163 has no file option for the SMTP password (no smtp_pass_path), so the role
puts it into homeserver.yaml, which lives in a Secret only. Here the password is an
argument (a placeholder while validating, the real value when the role renders the file)
and is never part of a message.
"""

import difflib
import ipaddress
import re
from collections.abc import Mapping
from email.utils import parseaddr

from ansible_collections.matrixk8s.synapse.plugins.module_utils.errors import MatrixK8sError

TLS_MODES = {
    # mode: (enable_tls, require_transport_security, force_tls, default port)
    "starttls": (True, True, False, 587),
    "tls": (True, False, True, 465),
    "none": (False, False, False, 25),
}
OPTIONS = (
    "smtp_host",
    "smtp_port",
    "tls",
    "smtp_user",
    "smtp_pass_secret",
    "notif_from",
    "app_name",
    "enable_notifs",
    "client_base_url",
)
SECRET_REFERENCE_KEYS = ("secret", "key")
DEFAULT_SECRET_KEY = "password"
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*\.?$")
_K8S_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
_URL = re.compile(r"^https?://[^/\s?#]+(/[^\s]*)?$")


class EmailConfigError(MatrixK8sError):
    """synapse_email cannot be turned into Synapse's email section."""


def _is_host(value):
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return bool(_HOSTNAME.match(value))


def _port(value, name):
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise EmailConfigError(f"{name}.smtp_port must be a port number from 1 to 65535, got {value!r}")
    return value


def _string(email, option, name):
    value = email.get(option)
    if not isinstance(value, str) or not value.strip():
        raise EmailConfigError(f"{name}.{option} must be a non-empty string")
    return value


def _check_keys(email, name):
    if "smtp_pass" in email:
        # Never quoted: it is the password.
        raise EmailConfigError(
            f"{name}.smtp_pass: the SMTP password does not go into the inventory. Put it in a "
            f"Secret (kubectl -n <namespace> create secret generic smtp --from-literal=password=...) "
            f"and name it in {name}.smtp_pass_secret: {{secret: smtp, key: password}}"
        )
    unknown = sorted(set(email) - set(OPTIONS), key=str)
    if unknown:
        key = str(unknown[0])
        close = difflib.get_close_matches(key, OPTIONS, n=1)
        hint = f" (did you mean {name}.{close[0]}?)" if close else ""
        raise EmailConfigError(f"{name} has no option '{key}'{hint}; the options are {', '.join(OPTIONS)}")


def email_password_reference(email, name="synapse_email"):
    """{'secret': <name>, 'key': <key>} of the SMTP password's Secret, or {} without one."""
    if not email:
        return {}
    reference = email.get("smtp_pass_secret") if isinstance(email, Mapping) else None
    if reference is None:
        return {}
    where = f"{name}.smtp_pass_secret"
    example = "{secret: <Secret name>, key: <key, default password>}"
    if not isinstance(reference, Mapping):
        raise EmailConfigError(f"{where} must be a mapping {example}, got {type(reference).__name__}")
    extra = sorted(set(reference) - set(SECRET_REFERENCE_KEYS), key=str)
    if extra:
        raise EmailConfigError(f"{where} has no option '{extra[0]}': it is {example}")
    secret = reference.get("secret")
    if not isinstance(secret, str) or not _K8S_SUBDOMAIN.match(secret):
        raise EmailConfigError(
            f"{where}.secret must name an existing Secret in the namespace (a DNS subdomain "
            f"such as smtp-password), got {secret!r}"
        )
    key = reference.get("key", DEFAULT_SECRET_KEY)
    if not isinstance(key, str) or not _SECRET_KEY.match(key):
        raise EmailConfigError(
            f"{where}.key must be a key of Secret {secret} (letters, digits, '-', '_', '.'), got {key!r}"
        )
    return {"secret": secret, "key": key}


def email_section(email, smtp_pass=None, name="synapse_email"):
    """Synapse's `email:` mapping for synapse_email, or {} when email is off (empty or None).

    smtp_pass is what goes into email.smtp_pass when synapse_email names a password Secret:
    the role passes a placeholder while validating, the Secret's value when rendering.
    """
    if email is None or (isinstance(email, Mapping) and not email):
        return {}
    if not isinstance(email, Mapping):
        raise EmailConfigError(
            f"{name} must be a mapping such as {{smtp_host: smtp.example.com, notif_from: "
            f"'Matrix <matrix@example.com>'}}, or {{}} for no email; got {type(email).__name__}"
        )
    _check_keys(email, name)

    host = email.get("smtp_host")
    if not host:
        raise EmailConfigError(f"{name}.smtp_host is required: the host name of the SMTP server (relay)")
    if not _is_host(host):
        raise EmailConfigError(
            f"{name}.smtp_host must be a host name or IP address such as smtp.example.com "
            f"(no scheme, no port: set {name}.smtp_port), got {host!r}"
        )

    mode = email.get("tls", "starttls")
    if mode not in TLS_MODES:
        raise EmailConfigError(
            f"{name}.tls must be one of {', '.join(TLS_MODES)} (starttls: upgrade on port 587, "
            f"tls: TLS from the start on port 465, none: no encryption), got {mode!r}"
        )
    enable_tls, require_tls, force_tls, default_port = TLS_MODES[mode]
    port = _port(email.get("smtp_port", default_port), name)

    if "notif_from" not in email:
        raise EmailConfigError(
            f"{name}.notif_from is required: the sender of every mail, such as "
            f"'%(app)s <matrix@example.com>' (%(app)s becomes {name}.app_name)"
        )
    notif_from = _string(email, "notif_from", name)
    if "@" not in parseaddr(notif_from)[1]:
        raise EmailConfigError(
            f"{name}.notif_from must be an email address, optionally with a display name, such as "
            f"'%(app)s <matrix@example.com>'; got {notif_from!r}"
        )

    section = {
        "smtp_host": host,
        "smtp_port": port,
        "enable_tls": enable_tls,
        "require_transport_security": require_tls,
        "force_tls": force_tls,
        "notif_from": notif_from,
        "enable_notifs": email.get("enable_notifs", True),
    }
    if not isinstance(section["enable_notifs"], bool):
        raise EmailConfigError(
            f"{name}.enable_notifs must be true or false, got {section['enable_notifs']!r}"
        )
    if "app_name" in email:
        section["app_name"] = _string(email, "app_name", name)
    if "client_base_url" in email:
        url = email["client_base_url"]
        if not isinstance(url, str) or not _URL.match(url):
            raise EmailConfigError(
                f"{name}.client_base_url must be the http(s) URL of a web client such as "
                f"https://app.element.io, got {url!r}"
            )
        # Synapse appends '/#/room/...': a trailing slash would make '//#'.
        section["client_base_url"] = url.rstrip("/")

    user = email.get("smtp_user")
    reference = email_password_reference(email, name)
    if user is not None and not reference:
        raise EmailConfigError(
            f"{name}.smtp_user is set but {name}.smtp_pass_secret is not: name the Secret that "
            f"holds the SMTP password ({{secret: <name>, key: <key>}})"
        )
    if reference and user is None:
        raise EmailConfigError(
            f"{name}.smtp_pass_secret is set but {name}.smtp_user is not: give the user name "
            f"the SMTP server expects with that password"
        )
    if reference:
        section["smtp_user"] = _string(email, "smtp_user", name)
        if mode == "none":
            raise EmailConfigError(
                f"{name}.tls is none but {name}.smtp_user is set: the password would cross the "
                f"network unencrypted. Use tls starttls or tls (or a relay that needs no login)"
            )
        # A Secret made with --from-file often ends in a newline the password does not have.
        password = smtp_pass.rstrip("\r\n") if isinstance(smtp_pass, str) else None
        if not password or not password.strip():
            raise EmailConfigError(
                f"the SMTP password in Secret {reference['secret']} (key {reference['key']}), "
                f"named by {name}.smtp_pass_secret, is empty or missing"
            )
        section["smtp_pass"] = password
    return section
