"""Start and stop the real programs: PostgreSQL 15 and nginx from Debian, Synapse from the venv.

Each runs as its own process group with its output in a log file, and stop() always ends
it (SIGTERM/SIGINT, then SIGKILL); atexit stops whatever a crashed session left running.
When the suite runs as root, PostgreSQL runs as the `postgres` user (initdb refuses root)
and nginx as `nobody`, like the unprivileged users of their images; Synapse runs as the
current user.

PostgreSQL is prepared the way the postgres image's entrypoint does it (the chart sets its
env): `initdb --username=$POSTGRES_USER --pwfile=<password> $POSTGRES_INITDB_ARGS`, then
`host all all all scram-sha-256` appended to pg_hba.conf, then CREATE DATABASE
$POSTGRES_DB, then each *.sh of the chart's /docker-entrypoint-initdb.d with the container's
env (the postgres chart's database-roles.sh: Synapse's login becomes an ordinary role).
On loopback Synapse would match initdb's `host ... 127.0.0.1/32 trust` lines instead,
which the pod never does (Synapse connects from another pod), so those are removed and
the password is checked as in the cluster. The server listens on 127.0.0.1 (the image
listens on '*') and keeps its socket in its own directory.
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import pathlib
import pwd
import shlex
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

PG_BIN = pathlib.Path("/usr/lib/postgresql/15/bin")
NGINX = "/usr/sbin/nginx"

_running: list[Process] = []


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclasses.dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int

    @classmethod
    def named(cls, name: str) -> User | None:
        """The unprivileged user a program runs as; None when not root (run as ourselves)."""
        if os.geteuid() != 0:
            return None
        entry = pwd.getpwnam(name)
        return cls(name, entry.pw_uid, entry.pw_gid)

    def argv(self) -> list[str]:
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", "--"]


def chown(path: pathlib.Path, user: User | None) -> None:
    if user is not None:
        os.chown(path, user.uid, user.gid)


def make_dir(path: pathlib.Path, user: User | None = None, mode: int = 0o755) -> pathlib.Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    chown(path, user)
    return path


def write_file(path: pathlib.Path, text: str, user: User | None = None, mode: int = 0o644) -> pathlib.Path:
    if not path.parent.exists():
        make_dir(path.parent, user)
    path.write_text(text)
    path.chmod(mode)
    chown(path, user)
    return path


class Process:
    """A started program; stop() ends its whole process group."""

    def __init__(self, name, argv, log, *, user=None, env=None, cwd=None, stop_signal=signal.SIGTERM):
        self.name, self.argv, self.log, self.stop_signal = name, list(argv), pathlib.Path(log), stop_signal
        self.env = dict(env or os.environ)
        log_file = open(self.log, "ab")  # noqa: SIM115 (the child keeps it; closed in stop())
        chown(self.log, user)
        self._log_file = log_file
        self.started = time.monotonic()
        self.popen = subprocess.Popen(
            (user.argv() if user else []) + self.argv,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
            cwd=cwd,
            start_new_session=True,
        )
        _running.append(self)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15) -> int:
        if self.alive():
            try:
                os.killpg(self.popen.pid, self.stop_signal)
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
            except ProcessLookupError:
                self.popen.wait(10)
        self._log_file.close()
        if self in _running:
            _running.remove(self)
        return self.popen.returncode

    def wait_until(self, ready, timeout: float, what: str) -> float:
        """Poll ready() until true; seconds since start. Fails at once if the program exits."""
        deadline = time.monotonic() + timeout
        while True:
            if ready():
                return time.monotonic() - self.started
            if not self.alive():
                raise RuntimeError(
                    f"{self.name} exited ({self.popen.returncode}) before {what}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: no {what} within {timeout}s:\n{self.tail()}")
            time.sleep(0.05)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])


@atexit.register
def _stop_leftovers():
    for process in list(_running):
        process.stop(5)


def http_ok(url: str, timeout: float = 1) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def run(argv, *, user=None, timeout=120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        (user.argv() if user else []) + list(argv), capture_output=True, text=True, timeout=timeout, **kwargs
    )


# --- PostgreSQL -----------------------------------------------------------------------


@dataclasses.dataclass
class Postgres:
    env: dict[str, str]  # the container env, remapped (PGDATA, PGPORT)
    socket_dir: pathlib.Path
    process: Process | None = None

    @property
    def port(self) -> int:
        return int(self.env["PGPORT"])

    def script_env(self) -> dict[str, str]:
        """The container's env for a script run in it, the server reached over its socket."""
        return {
            **self.env,
            "PATH": f"{PG_BIN}:/usr/bin:/bin",
            "PGHOST": str(self.socket_dir),
            "PGPORT": str(self.port),
        }

    def connect(self, dbname: str = "postgres", **kwargs):
        """A psycopg2 connection over the Unix socket (trusted, as `local` lines are)."""
        import psycopg2

        kwargs.setdefault("user", self.env["POSTGRES_USER"])
        return psycopg2.connect(host=str(self.socket_dir), port=self.port, dbname=dbname, **kwargs)


def initdb_argv(env: dict[str, str], pwfile: pathlib.Path) -> list[str]:
    """The postgres image entrypoint's initdb command line for this env."""
    return [
        str(PG_BIN / "initdb"),
        f"--username={env['POSTGRES_USER']}",
        f"--pwfile={pwfile}",
        *shlex.split(env.get("POSTGRES_INITDB_ARGS", "")),
    ]


def run_init_scripts(server: Postgres, init_dir: pathlib.Path | None, user: User | None) -> None:
    """The image's first-start step: each *.sh of init_dir, with the container's env, against
    the server over its socket (the scripts' own PGHOST/PGPORT)."""
    for script in sorted(init_dir.glob("*.sh")) if init_dir else []:
        result = run(["bash", str(script)], user=user, env=server.script_env(), cwd=server.socket_dir)
        if result.returncode != 0:
            raise RuntimeError(f"{script.name} failed:\n{result.stdout}\n{result.stderr}")


def start_postgres(
    env: dict[str, str], workdir: pathlib.Path, user: User | None, socket_dir=None, init_dir=None
) -> Postgres:
    """initdb + pg_hba + start + CREATE DATABASE + init_dir's scripts, as the image does.

    workdir holds the log (and, for a moment, the password file); socket_dir the socket.
    """
    pgdata = pathlib.Path(env["PGDATA"])
    make_dir(workdir, user)
    make_dir(pgdata.parent, user)
    make_dir(pgdata, user, 0o700)
    socket_dir = make_dir(socket_dir or workdir / "socket", user)
    pwfile = write_file(workdir / "pwfile", env["POSTGRES_PASSWORD"] + "\n", user, 0o600)
    proc_env = {
        "PATH": f"{PG_BIN}:/usr/bin:/bin",
        "PGDATA": str(pgdata),
        "PGPORT": env["PGPORT"],
        "LANG": "C.UTF-8",  # only used when POSTGRES_INITDB_ARGS names no locale
        "HOME": str(workdir),
    }
    result = run(initdb_argv(env, pwfile), user=user, env=proc_env, cwd=workdir)
    pwfile.unlink()
    if result.returncode != 0:
        raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
    (workdir / "initdb.log").write_text(result.stdout + result.stderr)

    hba = pgdata / "pg_hba.conf"
    lines = [line for line in hba.read_text().splitlines() if not line.startswith("host")]
    hba.write_text("\n".join([*lines, "", "host all all all scram-sha-256", ""]))

    server = Postgres(env=env, socket_dir=socket_dir)
    server.process = Process(
        "postgres",
        [
            str(PG_BIN / "postgres"),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={socket_dir}",
        ],
        workdir / "postgres.log",
        user=user,
        env=proc_env,
        cwd=workdir,
        stop_signal=signal.SIGINT,  # "fast" shutdown: does not wait for clients
    )

    def accepts():
        try:
            server.connect().close()
            return True
        except Exception:
            return False

    server.process.wait_until(accepts, 60, "connection")
    if env.get("POSTGRES_DB", "postgres") != "postgres":
        from psycopg2 import sql

        conn = server.connect()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(env["POSTGRES_DB"])))
        conn.close()
    run_init_scripts(server, init_dir, user)
    return server


# --- HTTP servers ---------------------------------------------------------------------


def start_synapse(
    argv, log: pathlib.Path, home: pathlib.Path, health_url: str, env: dict[str, str] | None = None
) -> tuple[Process, float]:
    """Synapse, and its seconds from process start to /health answering 200 (env: added to ours)."""
    process = Process("synapse", argv, log, env={**os.environ, **(env or {}), "HOME": str(home)}, cwd=home)
    seconds = process.wait_until(lambda: http_ok(health_url), 120, "/health OK")
    return process, seconds


def start_nginx(argv, log: pathlib.Path, user: User | None, health_url: str) -> Process:
    process = Process("nginx", argv, log, user=user, cwd=log.parent)
    process.wait_until(lambda: http_ok(health_url), 30, "/healthz OK")
    return process
