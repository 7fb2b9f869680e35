"""Fixtures of the real-server suite: PostgreSQL, Synapse and nginx fed what the roles render.

Session-scoped, started once and stopped in finalizers even when a test fails:
  artifacts  what the roles and charts produced (artifacts.py: the local cluster, or the
             offline render when no cluster answers)
  rendered   the same, as remap.Config (pod ports and paths)
  loopback   remap.remap_for_loopback(rendered, ports, paths): the only changes made
  postgres, synapse, nginx   the running programs
  admin      the first admin user, registered with the registration Job's own command

Timings (Synapse's start to /health, the session's wall time) go to
.local/realserver/last-run.json for dev/bench/realserver.sh.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import pathlib
import shutil
import signal
import tempfile
import time

import nio
import pytest

from . import artifacts as artifacts_module
from . import nginxconf, pods, servers
from .artifacts import POD_CONTAINERS, container
from .remap import Config, Paths, Ports, pod_path_to_local, remap_for_loopback

TIMINGS = artifacts_module.REPO / ".local" / "realserver" / "last-run.json"
_timings: dict = {}
_session_started = time.monotonic()


def pytest_sessionfinish(session, exitstatus):
    if not _timings:
        return
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    _timings.update(
        suite_wall_seconds=round(time.monotonic() - _session_started, 3), exit_status=int(exitstatus)
    )
    TIMINGS.write_text(json.dumps(_timings, indent=2) + "\n")


def pytest_terminal_summary(terminalreporter):
    if "source" not in _timings:
        return
    source = _timings["source"]
    where = {
        "cluster": "the local cluster (what the roles stored)",
        "offline": "the roles rendered offline: no cluster answered (make cluster for the real thing)",
    }[source]
    terminalreporter.write_sep("-", "realserver")
    terminalreporter.write_line(
        f"artifacts from {where}" + (", after site.yml" if _timings["converged_first"] else "")
    )
    if "synapse_start_to_health_seconds" in _timings:
        terminalreporter.write_line(
            f"Synapse start to /health OK: {_timings['synapse_start_to_health_seconds']:.2f} s"
        )


@pytest.fixture(scope="session", autouse=True)
def _teardown_on_sigterm():
    """SIGTERM (a CI timeout, `kill`) ends the session like Ctrl-C: finalizers still run.

    Without this, pytest dies at once and leaves PostgreSQL, Synapse and nginx running.
    """

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="session")
def artifacts() -> artifacts_module.Artifacts:
    loaded = artifacts_module.load()
    _timings.update(source=loaded.source, converged_first=loaded.converged)
    return loaded


@pytest.fixture(scope="session")
def rendered(artifacts) -> Config:
    return Config.from_artifacts(artifacts)


@pytest.fixture(scope="session")
def workdir():
    """A private directory for every program's files; removed at the end of the session.

    Not pytest's tmp_path: that lives under a 0700 directory the unprivileged postgres and
    nginx users cannot enter. MATRIXK8S_REALSERVER_KEEP=1 keeps it for a post-mortem.
    """
    path = pathlib.Path(tempfile.mkdtemp(prefix="matrixk8s-realserver-"))
    path.chmod(0o755)
    yield path
    if os.environ.get("MATRIXK8S_REALSERVER_KEEP") != "1":
        shutil.rmtree(path, ignore_errors=True)
    else:
        print(f"\nrealserver: kept {path}")


@pytest.fixture(scope="session")
def users():
    return {"postgres": servers.User.named("postgres"), "nginx": servers.User.named("nobody")}


@pytest.fixture(scope="session")
def ports(rendered) -> Ports:
    return pods.free_ports_for(rendered)


@pytest.fixture(scope="session")
def paths(workdir, artifacts) -> Paths:
    return pods.local_paths(workdir, artifacts)


@pytest.fixture(scope="session")
def loopback(rendered, ports, paths) -> Config:
    return remap_for_loopback(rendered, ports, paths)


@pytest.fixture(scope="session")
def postgres(artifacts, loopback, paths, workdir, users):
    pods.materialise("postgres", artifacts, paths, users["postgres"])
    server = servers.start_postgres(
        loopback.postgres_env,
        workdir / "postgres",
        users["postgres"],
        pods.postgres_socket_dir(paths),
        pods.postgres_init_dir(paths),
    )
    yield server
    server.process.stop()


def pod_home(artifacts, pod: str, paths: Paths) -> pathlib.Path:
    """The container's $HOME (the charts point it at the /tmp emptyDir), as a local path."""
    spec = container(artifacts.pods[pod], POD_CONTAINERS[pod])
    home = next((e["value"] for e in spec.get("env", []) if e["name"] == "HOME"), "/tmp")
    return pathlib.Path(pod_path_to_local(getattr(paths, pod), home))


@dataclasses.dataclass
class RunningSynapse:
    process: servers.Process
    config_path: pathlib.Path
    url: str  # the client/federation listener
    health_url: str  # the health-only listener (kubelet probes)
    start_to_health: float


@pytest.fixture(scope="session")
def synapse(artifacts, loopback, paths, postgres, workdir):
    config_path = pods.install_synapse(artifacts, loopback, paths)
    by_resource = {
        name: listener["port"]
        for listener in loopback.homeserver["listeners"]
        for resource in listener["resources"]
        for name in resource["names"]
    }
    url = f"http://127.0.0.1:{by_resource['client']}"
    health_url = f"http://127.0.0.1:{by_resource['health']}/health"
    process, seconds = servers.start_synapse(
        loopback.synapse_command,
        workdir / "synapse.log",
        pod_home(artifacts, "synapse", paths),
        health_url,
        env=pods.python_path(artifacts, "synapse", paths),
    )
    _timings["synapse_start_to_health_seconds"] = round(seconds, 3)
    try:
        yield RunningSynapse(process, config_path, url, health_url, seconds)
    finally:
        process.stop()


@dataclasses.dataclass
class RunningNginx:
    process: servers.Process
    url: str
    files: pathlib.Path  # the ConfigMap's files as written


@pytest.fixture(scope="session")
def nginx(artifacts, loopback, paths, users, workdir):
    files = pods.install_nginx(artifacts, loopback, paths, users["nginx"])
    (listen,) = nginxconf.find_all(loopback.nginx_conf, "listen")
    url = f"http://{listen.args[0]}"
    process = servers.start_nginx(
        loopback.nginx_command, workdir / "nginx.log", users["nginx"], f"{url}/healthz"
    )
    try:
        yield RunningNginx(process, url, files)
    finally:
        process.stop()


@dataclasses.dataclass
class Admin:
    user_id: str
    localpart: str
    password: str
    registration: object  # the CompletedProcess of register_new_matrix_user
    config_path: pathlib.Path  # the homeserver.yaml the Job's command read


@pytest.fixture(scope="session")
def admin(artifacts, loopback, paths, synapse):
    """The first admin, created by the registration Job's command against the local Synapse."""
    config_path = pods.install_admin_job(artifacts, loopback, paths)
    argv = loopback.admin_command
    home = pod_home(artifacts, "admin_job", paths)
    result = servers.run(argv, env={**os.environ, "HOME": str(home)}, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    localpart = argv[argv.index("--user") + 1]
    return Admin(
        user_id=f"@{localpart}:{loopback.homeserver['server_name']}",
        localpart=localpart,
        password=artifacts.admin_password,
        registration=result,
        config_path=config_path,
    )


@dataclasses.dataclass
class Session:
    user_id: str
    device_id: str
    access_token: str


@pytest.fixture(scope="session")
def admin_session(synapse, admin) -> Session:
    """One password login of the admin with matrix-nio, shared by the tests.

    The inventory's rc_login allows 5 logins in a burst: logging in once per test would
    soon be answered 429.
    """

    async def login():
        client = nio.AsyncClient(synapse.url, admin.user_id)
        try:
            response = await client.login(admin.password, device_name="realserver-suite")
            assert isinstance(response, nio.LoginResponse), response
            return Session(response.user_id, response.device_id, response.access_token)
        finally:
            await client.close()

    return asyncio.run(login())
