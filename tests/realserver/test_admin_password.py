"""The password Job's script (roles/synapse/templates/register-admin-job.yml.j2) against a
real Synapse: it sets a user's password through the admin API with a helper admin it
registers with the shared secret and then deactivates, and prints no password.

The script is taken from the template as the role renders it; only the two file paths it
reads (the mounted Secrets) are moved to where this suite lays out the Job's volumes. The
target is a user of its own, so the suite's admin session stays valid.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import sys
import urllib.parse
import urllib.request

import nio

from . import servers
from .artifacts import REPO
from .remap import pod_path_to_local

TEMPLATE = REPO / "roles" / "synapse" / "templates" / "register-admin-job.yml.j2"


def _script() -> str:
    text = TEMPLATE.read_text()
    (script,) = re.findall(r"\{% set admin_api_script %\}(.*?)\{% endset %\}", text, re.DOTALL)
    assert "{{" not in script, "the script is plain text in the template"
    return script


def _admin_api(synapse, session, method, path, body=None):
    request = urllib.request.Request(
        synapse.url + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {session.access_token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
        return json.loads(response.read() or b"{}")


def test_the_password_job_sets_a_password_through_the_admin_api(
    synapse, admin, admin_session, paths, tmp_path
):
    server_name = admin.user_id.split(":", 1)[1]
    localpart = f"bob{secrets.token_hex(3)}"
    user_id = f"@{localpart}:{server_name}"
    old_password, new_password = secrets.token_urlsafe(16), "new-" + secrets.token_urlsafe(16)
    _admin_api(
        synapse, admin_session, "PUT", f"/_synapse/admin/v2/users/{user_id}", {"password": old_password}
    )

    shared = pod_path_to_local(paths.admin_job, "/secrets/synapse/registration_shared_secret")
    password_file = tmp_path / "password"
    password_file.write_text(new_password + "\n")  # as a Secret may hold it: stripped
    script = (
        _script()
        .replace('"/secrets/synapse/registration_shared_secret"', json.dumps(shared))
        .replace('"/secrets/admin/password"', json.dumps(str(password_file)))
    )
    result = servers.run([sys.executable, "-c", script, synapse.url, user_id, "true"], timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"password of {user_id} set; other sessions logged out" in result.stdout
    assert new_password not in result.stdout + result.stderr
    assert old_password not in result.stdout + result.stderr

    async def logins():
        client = nio.AsyncClient(synapse.url, user_id)
        try:
            return await client.login(old_password), await client.login(new_password)
        finally:
            await client.close()

    refused, accepted = asyncio.run(logins())
    assert isinstance(refused, nio.LoginError), refused
    assert isinstance(accepted, nio.LoginResponse), accepted

    # The account the script logged in as is gone: deactivated and erased.
    (helper_id,) = re.findall(r"helper admin (@matrixk8s-password-[0-9a-f]+:\S+) deactivated", result.stdout)
    helper = _admin_api(
        synapse, admin_session, "GET", f"/_synapse/admin/v2/users/{urllib.parse.quote(helper_id)}"
    )
    assert helper["deactivated"] is True
    assert helper["admin"] is True  # it was one: the admin API wants an admin
    # The target is an admin now: the role's accounts are admins.
    target = _admin_api(
        synapse, admin_session, "GET", f"/_synapse/admin/v2/users/{urllib.parse.quote(user_id)}"
    )
    assert target["admin"] is True
