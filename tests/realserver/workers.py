"""Synapse with workers on loopback: Redis, the main process, workers and the nginx router.

Everything Synapse and nginx read comes from synapse_workers (module_utils), applied to the
homeserver.yaml the roles rendered (the suite's `loopback` config). Test-only changes, each
because several processes share one machine here: every listener gets its own free port
(network.instance_ports; the main process's own listeners too), and the main process uses its
own database (`synapse_workers`, so the monolith the other modules start never shares one
with it) and its own media directory.

Processes start in parallel where Synapse allows it: Redis and the main process together,
then every worker at once (a worker refuses to start before the main process has prepared
the database schema), then nginx. Readiness is polled, never slept for.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import secrets
import socket
import sys
import urllib.request

import yaml
from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_worker_config import (
    MAIN,
    derive_workers,
)
from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_worker_routes import (
    render_nginx_router,
)

from . import servers

REDIS_SERVER = "/usr/bin/redis-server"
DATABASE = "synapse_workers"


def nginx_conf(router: str, directory: pathlib.Path, user: servers.User | None) -> pathlib.Path:
    """A whole nginx.conf around the router's http-level text, every path under directory."""
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        servers.make_dir(directory / "temp" / name, user, 0o700)
    body = "\n".join("    " + line if line else line for line in router.splitlines())
    text = f"""daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log stderr notice;
events {{
    worker_connections 256;
}}
http {{
    access_log {directory}/access.log;
    client_body_temp_path {directory}/temp/client_body;
    proxy_temp_path {directory}/temp/proxy;
    fastcgi_temp_path {directory}/temp/fastcgi;
    uwsgi_temp_path {directory}/temp/uwsgi;
    scgi_temp_path {directory}/temp/scgi;
{body}
}}
"""
    return servers.write_file(directory / "nginx.conf", text, user)


def nginx_argv(conf: pathlib.Path, *extra: str) -> list[str]:
    return [servers.NGINX, "-p", str(conf.parent), "-c", str(conf), "-e", "stderr", *extra]


# --- Redis --------------------------------------------------------------------------------


@dataclasses.dataclass
class Redis:
    process: servers.Process
    port: int
    password_file: pathlib.Path


def _redis_answers(port: int, password: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(f"AUTH {password}\r\nPING\r\n".encode())
            reply = b""
            while b"PONG" not in reply and len(reply) < 200:
                chunk = conn.recv(100)
                if not chunk:
                    break
                reply += chunk
            return reply.startswith(b"+OK") and b"+PONG" in reply
    except OSError:
        return False


def start_redis(directory: pathlib.Path) -> Redis:
    """redis-server on a free loopback port with a password (in its config file, not argv)."""
    servers.make_dir(directory, mode=0o700)
    password = secrets.token_urlsafe(24)
    port = servers.free_port()
    config = servers.write_file(
        directory / "redis.conf",
        f'port {port}\nbind 127.0.0.1\nrequirepass {password}\nsave ""\nappendonly no\ndir {directory}\n',
        mode=0o600,
    )
    password_file = servers.write_file(directory / "password", password, mode=0o600)
    process = servers.Process("redis", [REDIS_SERVER, str(config)], directory / "redis.log", cwd=directory)
    return Redis(process, port, password_file)


def wait_redis(redis: Redis) -> None:
    password = redis.password_file.read_text()
    redis.process.wait_until(lambda: _redis_answers(redis.port, password), 30, "PONG")


# --- Synapse ------------------------------------------------------------------------------


def create_database(postgres, owner: str) -> None:
    """A database for the worker deployment, as the postgres chart makes Synapse's: owned by
    Synapse's login, C collation (Synapse refuses any other)."""
    from psycopg2 import sql

    conn = postgres.connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "CREATE DATABASE {} OWNER {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
            ).format(sql.Identifier(DATABASE), sql.Identifier(owner))
        )
    conn.close()


def worker_ports(workers) -> dict:
    """Free loopback ports for every listener of every instance, and of the main process."""
    from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_workers import parse_workers

    instances = [i for spec in parse_workers(workers).values() for i in spec.instances]
    return {
        "main_ports": {"replication": servers.free_port(), "metrics": servers.free_port()},
        "instance_ports": {
            i: {
                "http": servers.free_port(),
                "replication": servers.free_port(),
                "metrics": servers.free_port(),
            }
            for i in instances
        },
    }


def derive(workers, homeserver: dict, redis: Redis, media_dir: pathlib.Path) -> dict:
    """derive_workers over the roles' homeserver.yaml (own ports, database and media directory)."""
    main = yaml.safe_load(yaml.safe_dump(homeserver))
    args = main["database"]["args"]
    args["database" if "database" in args else "dbname"] = DATABASE
    main["media_store_path"] = str(media_dir)
    for listener in main["listeners"]:  # the monolith of the other modules has the suite's ports
        listener["port"] = servers.free_port()
    network = {
        "main_host": "127.0.0.1",
        "instance_host": "127.0.0.1",
        "bind_addresses": ["127.0.0.1"],
        **worker_ports(workers),
    }
    redis_input = {"host": "127.0.0.1", "port": redis.port, "password_path": str(redis.password_file)}
    return derive_workers(workers, main, redis_input, network)


def client_port(homeserver: dict) -> int:
    (port,) = [
        listener["port"]
        for listener in homeserver["listeners"]
        if listener["type"] == "http" and any("client" in r["names"] for r in listener["resources"])
    ]
    return port


@dataclasses.dataclass
class Deployment:
    derived: dict
    main_config: pathlib.Path
    processes: dict[str, servers.Process]  # "main" and every instance
    redis: Redis
    router: servers.Process | None = None
    router_url: str = ""
    start_seconds: dict = dataclasses.field(default_factory=dict)

    def metrics_url(self, instance: str) -> str:
        return f"http://127.0.0.1:{self.derived['addresses'][instance]['metrics']}/metrics"

    def stop(self) -> None:
        for process in [self.router, *self.processes.values(), self.redis.process]:
            if process is not None:
                process.stop()


def synapse_env(home: pathlib.Path) -> dict:
    return {**os.environ, "HOME": str(home)}


def start_main(derived: dict, directory: pathlib.Path) -> tuple[pathlib.Path, servers.Process]:
    config = servers.write_file(directory / "homeserver.yaml", yaml.safe_dump(derived["main"]), mode=0o600)
    argv = [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config)]
    return config, servers.Process(
        "main", argv, directory / "main.log", env=synapse_env(directory), cwd=directory
    )


def start_workers(
    derived: dict, main_config: pathlib.Path, directory: pathlib.Path
) -> dict[str, servers.Process]:
    processes = {}
    for instance, worker in derived["workers"].items():
        path = servers.write_file(directory / f"{instance}.yaml", yaml.safe_dump(worker), mode=0o600)
        argv = [sys.executable, "-m", "synapse.app.generic_worker", "-c", str(main_config), "-c", str(path)]
        processes[instance] = servers.Process(
            instance, argv, directory / f"{instance}.log", env=synapse_env(directory), cwd=directory
        )
    return processes


def health_url(derived: dict, instance: str, main_client_port: int) -> str:
    port = main_client_port if instance == MAIN else derived["addresses"][instance]["health"]
    return f"http://127.0.0.1:{port}/health"


def start_router(
    derived: dict, main_client_port: int, directory: pathlib.Path, user
) -> tuple[servers.Process, str]:
    servers.make_dir(directory, user)
    port = servers.free_port()
    router = render_nginx_router(derived, f"127.0.0.1:{main_client_port}", f"127.0.0.1:{port}")
    conf = nginx_conf(router, directory, user)
    url = f"http://127.0.0.1:{port}"
    process = servers.start_nginx(nginx_argv(conf), directory / "nginx.log", user, f"{url}/health")
    return process, url


# --- Metrics ------------------------------------------------------------------------------


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels without server_name): value} of a metrics listener."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "server_name"))
            samples[(sample.name, labels)] = sample.value
    return samples


def total(samples: dict, name: str, **labels) -> float:
    """The sum of name's samples whose labels include labels."""
    return sum(
        value
        for (sample, sample_labels), value in samples.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )
