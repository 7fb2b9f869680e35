"""The one place where the rendered configuration is changed to run on this machine.

In the cluster every program has its own pod: its own network address, the Service names
of the others, its volumes mounted at fixed paths. Here they share 127.0.0.1 and a
temporary directory. remap_for_loopback() moves hostnames, ports and file paths, and
nothing else; ALLOWED_CHANGES lists every key it may change, and test_remap.py diffs the
files the programs actually read against the rendered ones and fails on any other
difference. Everything else (database name, user and password, locale, listener
resources, x_forwarded, nginx locations and headers, the JSON documents...) runs exactly as
the roles and charts produced it.
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import json
import urllib.parse

import yaml

from . import nginxconf
from .artifacts import Artifacts

LOOPBACK = "127.0.0.1"


@dataclasses.dataclass(frozen=True)
class Ports:
    """Container port -> loopback port, for each program."""

    synapse: dict[int, int]
    postgres: dict[int, int]
    nginx: dict[int, int]


@dataclasses.dataclass(frozen=True)
class Paths:
    """Pod directory (a volume mount or the image's program) -> local path, for each program."""

    synapse: dict[str, str]
    postgres: dict[str, str]
    nginx: dict[str, str]
    admin_job: dict[str, str]
    # Programs the images run by name: python -> the venv's, nginx -> Debian's, ...
    programs: dict[str, str]


@dataclasses.dataclass
class Config:
    """What the programs read, in a form that can be changed and diffed."""

    homeserver: dict  # homeserver.yaml
    synapse_command: list[str]
    postgres_env: dict[str, str]  # PGDATA/PGPORT are read by initdb and postgres themselves
    nginx_command: list[str]
    nginx_conf: list[nginxconf.Directive]
    well_known: dict[str, object]  # ConfigMap file name -> parsed JSON document
    admin_command: list[str]
    admin_homeserver: dict  # homeserver.yaml as the registration Job mounts it (same Secret)

    @classmethod
    def from_artifacts(cls, artifacts: Artifacts) -> Config:
        """Each file as the container that reads it finds it: the path its command or config
        names, through the pod's volume mounts, in the Secret or ConfigMap mounted there."""

        def after(argv, flag):
            return argv[argv.index(flag) + 1]

        nginx_conf = nginxconf.parse(artifacts.file_in_pod("nginx", after(artifacts.nginx_command, "-c")))
        well_known = {}
        for alias in nginxconf.find_all(nginx_conf, "alias"):
            well_known[alias.args[0].rsplit("/", 1)[1]] = json.loads(
                artifacts.file_in_pod("nginx", alias.args[0])
            )
        return cls(
            homeserver=yaml.safe_load(
                artifacts.file_in_pod("synapse", after(artifacts.synapse_command, "-c"))
            ),
            synapse_command=list(artifacts.synapse_command),
            postgres_env=dict(artifacts.postgres_env),
            nginx_command=list(artifacts.nginx_command),
            nginx_conf=nginx_conf,
            well_known=well_known,
            admin_command=list(artifacts.admin_command),
            admin_homeserver=yaml.safe_load(
                artifacts.file_in_pod("admin_job", after(artifacts.admin_command, "--config"))
            ),
        )

    def as_tree(self) -> dict:
        """One nested structure of everything, for diff()."""
        return {
            "homeserver": self.homeserver,
            "synapse_command": self.synapse_command,
            "postgres_env": self.postgres_env,
            "nginx_command": self.nginx_command,
            "nginx_conf": nginxconf.as_mapping(self.nginx_conf),
            "well_known": self.well_known,
            "admin_command": self.admin_command,
            "admin_homeserver": self.admin_homeserver,
        }


# Every key remap_for_loopback() may change (fnmatch patterns, one per path element).
_HOMESERVER_CHANGES: tuple[tuple[str, ...], ...] = (
    # Synapse: listen on loopback ports; find PostgreSQL there; files where the volumes are.
    ("listeners", "*", "port"),
    ("listeners", "*", "bind_addresses", "*"),
    ("database", "args", "host"),
    ("database", "args", "port"),
    ("signing_key_path",),
    ("media_store_path",),
    ("registration_shared_secret_path",),
    ("macaroon_secret_key_path",),
    ("form_secret_path",),
)
ALLOWED_CHANGES: tuple[tuple[str, ...], ...] = (
    *(("homeserver", *key) for key in _HOMESERVER_CHANGES),
    ("synapse_command", "0"),  # python -> the venv's python (the image's Synapse version)
    ("synapse_command", "4"),  # -c /config/homeserver.yaml
    # PostgreSQL: the data directory and the port (both read from the environment).
    ("postgres_env", "PGDATA"),
    ("postgres_env", "PGPORT"),
    # nginx: the program, its config path, pid and temp files, listen address, JSON files.
    ("nginx_command", "0"),
    ("nginx_command", "4"),  # -c /etc/nginx/matrix/nginx.conf
    ("nginx_conf", "pid"),
    ("nginx_conf", "http", "*_temp_path"),
    ("nginx_conf", "http", "server", "listen"),
    ("nginx_conf", "http", "server", "location = /.well-known/matrix/*", "alias"),
    # /.well-known/matrix/client: base_url points at the Ingress (https://matrix.<domain>);
    # here nothing terminates TLS, so it points at Synapse's loopback port, over http.
    ("well_known", "client.json", "m.homeserver", "base_url"),
    # The admin registration Job: its program, the mounted files, the Service URL, and the
    # homeserver.yaml it mounts (remapped like Synapse's, its shared secret path through
    # the Job's own mounts).
    ("admin_command", "0"),
    ("admin_command", "2"),  # --config /config/homeserver.yaml
    ("admin_command", "8"),  # --password-file /secrets/admin/password
    ("admin_command", "9"),  # http://<synapse Service>:8008
    *(("admin_homeserver", *key) for key in _HOMESERVER_CHANGES),
)


def pod_path_to_local(mounts: dict[str, str], pod_path: str) -> str:
    """pod_path under the longest mount that holds it, moved to that mount's local directory."""
    best = max(
        (m for m in mounts if pod_path == m or pod_path.startswith(m.rstrip("/") + "/")),
        key=len,
        default=None,
    )
    if best is None:
        raise ValueError(f"{pod_path} is under none of the mounts {sorted(mounts)}")
    return mounts[best] + pod_path[len(best.rstrip("/")) :]


def _url(url: str, port: int) -> str:
    """A URL of the Ingress or the synapse Service, pointed at Synapse's loopback port (http)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(("http", f"{LOOPBACK}:{port}", parts.path, parts.query, parts.fragment))


def _command(argv: list[str], mounts: dict[str, str], programs: dict[str, str]) -> list[str]:
    out = [programs[argv[0]]]
    for arg in argv[1:]:
        out.append(pod_path_to_local(mounts, arg) if arg.startswith("/") else arg)
    return out


def remap_for_loopback(config: Config, ports: Ports, paths: Paths) -> Config:
    """The configuration moved onto 127.0.0.1 and local directories; only ALLOWED_CHANGES differ.

    config: what the roles and charts rendered (Config.from_artifacts).
    ports:  container port -> loopback port, per program.
    paths:  pod directory -> local directory, per program, and program -> local binary.
    """
    hs = copy.deepcopy(config.homeserver)
    # Where client traffic goes: the Ingress and the Service both reach this listener.
    client_port = next(
        ports.synapse[listener["port"]]
        for listener in hs["listeners"]
        if any("client" in resource["names"] for resource in listener["resources"])
    )
    for listener in hs["listeners"]:
        listener["port"] = ports.synapse[listener["port"]]
        listener["bind_addresses"] = [LOOPBACK]
    hs["database"]["args"]["host"] = LOOPBACK
    hs["database"]["args"]["port"] = ports.postgres[hs["database"]["args"]["port"]]
    for key in (
        "signing_key_path",
        "media_store_path",
        "registration_shared_secret_path",
        "macaroon_secret_key_path",
        "form_secret_path",
    ):
        hs[key] = pod_path_to_local(paths.synapse, hs[key])

    env = dict(config.postgres_env)
    env["PGDATA"] = pod_path_to_local(paths.postgres, env["PGDATA"])
    env["PGPORT"] = str(ports.postgres[int(env["PGPORT"])])

    conf = copy.deepcopy(config.nginx_conf)
    nginxconf.find(conf, "pid").args[0] = pod_path_to_local(paths.nginx, nginxconf.find(conf, "pid").args[0])
    http = nginxconf.find(conf, "http").block
    for directive in http:
        if directive.name.endswith("_temp_path"):
            directive.args[0] = pod_path_to_local(paths.nginx, directive.args[0])
    server = nginxconf.find(conf, "http", "server").block
    for directive in server:
        if directive.name == "listen":
            directive.args = [f"{LOOPBACK}:{ports.nginx[int(directive.args[0])]}", *directive.args[1:]]
    for alias in nginxconf.find_all(server, "alias"):
        alias.args[0] = pod_path_to_local(paths.nginx, alias.args[0])

    well_known = copy.deepcopy(config.well_known)
    if "client.json" in well_known:
        home = well_known["client.json"]["m.homeserver"]
        home["base_url"] = _url(home["base_url"], client_port)

    admin = _command(config.admin_command, paths.admin_job, paths.programs)
    admin[-1] = _url(config.admin_command[-1], client_port)
    # register_new_matrix_user reads one file named in homeserver.yaml: the shared secret,
    # which must be mounted in the Job too.
    admin_hs = copy.deepcopy(hs)
    key = "registration_shared_secret_path"
    admin_hs[key] = pod_path_to_local(paths.admin_job, config.admin_homeserver[key])

    return Config(
        homeserver=hs,
        synapse_command=_command(config.synapse_command, paths.synapse, paths.programs),
        postgres_env=env,
        nginx_command=_command(config.nginx_command, paths.nginx, paths.programs),
        nginx_conf=conf,
        well_known=well_known,
        admin_command=admin,
        admin_homeserver=admin_hs,
    )


def flatten(tree, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], object]:
    """{key path: leaf value}; list items are keyed by their index."""
    if isinstance(tree, dict):
        items = tree.items()
    elif isinstance(tree, list):
        items = enumerate(tree)
    else:
        return {prefix: tree}
    flat = {}
    for key, value in items:
        flat.update(flatten(value, (*prefix, str(key))))
    if not flat:
        flat[prefix] = tree  # an empty {} or [] is a value too
    return flat


def diff(rendered: dict, remapped: dict) -> set[tuple[str, ...]]:
    """Key paths whose values differ, or that exist on one side only."""
    a, b = flatten(rendered), flatten(remapped)
    return {k for k in a.keys() | b.keys() if a.get(k, diff) != b.get(k, diff)}


def allowed(path: tuple[str, ...]) -> bool:
    return any(
        len(path) == len(pattern)
        and all(fnmatch.fnmatchcase(p, q) for p, q in zip(path, pattern, strict=True))
        for pattern in ALLOWED_CHANGES
    )
