"""What must be refused is refused, by the real programs (or by our filter, before them).

- a database initialised without C collation: Synapse stops with its collation error;
- a misspelt option: our merge filter refuses it (Synapse itself would start with it);
- a wrong registration shared secret: Synapse's register API answers 403.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import pathlib
import secrets
import shlex
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.filter.homeserver import FilterModule

from . import servers
from .pods import (
    free_ports_for,
    install_synapse,
    local_paths,
    materialise,
    postgres_init_dir,
    postgres_socket_dir,
)
from .remap import pod_path_to_local, remap_for_loopback

LOCALE_OPTIONS = ("--locale", "--lc-collate", "--lc-ctype", "--no-locale")


def utf8_locale() -> str:
    """A UTF-8 locale other than C that initdb accepts here (install-system-packages.sh)."""
    available = {
        name.lower().replace("-", "") for name in subprocess.check_output(["locale", "-a"], text=True).split()
    }
    for name in ("C.UTF-8", "en_US.UTF-8"):
        if name.lower().replace("-", "") in available:
            return name
    pytest.fail("no UTF-8 locale besides C: run dev/install-system-packages.sh")


def without_c_locale(initdb_args: str, locale: str) -> str:
    """The chart's initdb arguments with every locale option replaced by --locale=<locale>."""
    words = shlex.split(initdb_args)
    kept, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in LOCALE_OPTIONS[:3]:
            skip = True  # "--locale C": the value is the next word
        elif not word.startswith(LOCALE_OPTIONS):
            kept.append(word)
    assert len(kept) < len(words), f"the chart's initdb arguments {initdb_args!r} set no locale"
    return shlex.join([*kept, f"--locale={locale}"])


@pytest.fixture(scope="module")
def non_c_setup(artifacts, rendered, workdir, users):
    """The whole rendered configuration, but PostgreSQL initialised with a UTF-8 locale.

    The same remap_for_loopback() with its own ports and directories, so it runs next to
    the main servers.
    """
    locale = utf8_locale()
    env = {
        **rendered.postgres_env,
        "POSTGRES_INITDB_ARGS": without_c_locale(rendered.postgres_env["POSTGRES_INITDB_ARGS"], locale),
    }
    base = workdir / "no-c-collation"
    paths = local_paths(base, artifacts)
    config = remap_for_loopback(
        dataclasses.replace(rendered, postgres_env=env), free_ports_for(rendered), paths
    )
    materialise("postgres", artifacts, paths, users["postgres"])
    database = servers.start_postgres(
        config.postgres_env,
        base / "postgres-run",
        users["postgres"],
        postgres_socket_dir(paths),
        postgres_init_dir(paths),  # Synapse's login, made by the chart's script
    )
    try:
        yield locale, config, paths, database
    finally:
        database.process.stop()


def test_synapse_refuses_a_database_without_c_collation(artifacts, non_c_setup, workdir):
    locale, config, paths, database = non_c_setup
    dbname = config.homeserver["database"]["args"]["database"]
    with database.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT datcollate, datctype FROM pg_database WHERE datname = %s", (dbname,))
        collate, ctype = cur.fetchone()
    conn.close()
    assert collate == ctype == locale, "the negative case needs a database that is not C"

    install_synapse(artifacts, config, paths)
    home = pathlib.Path(pod_path_to_local(paths.synapse, "/tmp"))
    process = servers.Process(
        "synapse (no C collation)",
        config.synapse_command,
        workdir / "no-c-collation" / "synapse.log",
        env={**os.environ, "HOME": str(home)},
        cwd=home,
    )
    try:
        process.popen.wait(120)
    finally:
        process.stop()
    output = process.output()
    assert process.popen.returncode != 0, output[-3000:]
    assert f"Database has incorrect collation of '{locale}'. Should be 'C'" in output, output[-3000:]
    # Refused during startup, before it listens: the error is the reason it exits.
    assert "IncorrectDatabaseSetup" in output, output[-3000:]


def test_a_typo_is_refused_by_our_filter_that_synapse_would_accept(rendered, loopback, synapse, tmp_path):
    typo = {"enable_registraton": True}
    with pytest.raises(AnsibleFilterError, match="did you mean enable_registration"):
        FilterModule().filters()["homeserver_merge"](rendered.homeserver, typo, names=["synapse_homeserver"])
    # Why the filter has to catch it: Synapse ignores unknown options and would start,
    # silently without the setting the operator meant.
    config = tmp_path / "homeserver.yaml"
    config.write_text(yaml.safe_dump({**loopback.homeserver, **typo}))
    result = subprocess.run(
        [sys.executable, "-m", "synapse.config", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Config parses OK!" in result.stdout


def _register(synapse_url: str, secret: str, username: str, password: str, admin: bool = False):
    """Synapse's shared-secret registration API, as register_new_matrix_user calls it."""
    with urllib.request.urlopen(f"{synapse_url}/_synapse/admin/v1/register", timeout=10) as response:
        nonce = json.load(response)["nonce"]
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    for part in (nonce, username, password, "admin" if admin else "notadmin"):
        mac.update(part.encode())
        if part != ("admin" if admin else "notadmin"):
            mac.update(b"\x00")
    body = {
        "nonce": nonce,
        "username": username,
        "password": password,
        "admin": admin,
        "mac": mac.hexdigest(),
    }
    request = urllib.request.Request(
        f"{synapse_url}/_synapse/admin/v1/register",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_wrong_registration_secret_is_refused(synapse, artifacts, loopback):
    password = secrets.token_urlsafe(16)
    status, answer = _register(
        synapse.url, "not-" + artifacts.synapse_secrets["registration_shared_secret"], "mallory", password
    )
    assert status == 403, answer
    assert answer["error"] == "HMAC incorrect"
    # The same request with the secret of Secret synapse-secrets works: the 403 above is
    # about the secret, not about the request.
    secret_file = pathlib.Path(loopback.homeserver["registration_shared_secret_path"])
    status, answer = _register(synapse.url, secret_file.read_text().strip(), "carol", password)
    assert status == 200, answer
    assert answer["user_id"] == f"@carol:{loopback.homeserver['server_name']}"


def test_register_new_matrix_user_fails_with_a_wrong_secret(synapse, loopback, admin, tmp_path):
    """The Job's command, given a shared secret that is not the server's, creates no user."""
    wrong_secret = tmp_path / "registration_shared_secret"
    wrong_secret.write_text("not-the-servers-secret")
    config = tmp_path / "homeserver.yaml"
    config.write_text(
        yaml.safe_dump({**loopback.homeserver, "registration_shared_secret_path": str(wrong_secret)})
    )
    argv = list(loopback.admin_command)
    argv[argv.index("--config") + 1] = str(config)
    argv[argv.index("--user") + 1] = "eve"
    result = servers.run(argv, env={**os.environ, "HOME": str(tmp_path)}, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "ERROR! Received 403" in output, output
    assert "HMAC incorrect" in output, output
