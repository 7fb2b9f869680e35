"""The pods' layout on this machine.

Each container's volumeMounts, as the rendered pod spec declares them, become directories
under a root (root/<pod>/<volume name>); Secret and ConfigMap volumes are filled with the
same files (keys, items, paths) the kubelet would project; emptyDir and PVC volumes start
empty. So a mismatch between a path the role writes into homeserver.yaml and a mount the
chart declares breaks the suite as it would break the pod. Then the remapped configuration
files replace the rendered ones (remap.py says what may differ).
"""

from __future__ import annotations

import json
import pathlib
import sys

import yaml

from . import nginxconf, servers
from .artifacts import POD_CONTAINERS, Artifacts, container
from .remap import Config, Paths, Ports, pod_path_to_local


def free_ports_for(rendered: Config) -> Ports:
    """A free loopback port for every port the rendered configuration listens on."""
    nginx_listen = [int(d.args[0]) for d in nginxconf.find_all(rendered.nginx_conf, "listen")]
    return Ports(
        synapse={listener["port"]: servers.free_port() for listener in rendered.homeserver["listeners"]},
        postgres={int(rendered.postgres_env["PGPORT"]): servers.free_port()},
        nginx={port: servers.free_port() for port in nginx_listen},
    )


def local_paths(root: pathlib.Path, artifacts: Artifacts) -> Paths:
    """Every volume mount of every pod, as root/<pod>/<volume name>."""

    def mounts(pod: str) -> dict[str, str]:
        spec = container(artifacts.pods[pod], POD_CONTAINERS[pod])
        return {m["mountPath"]: str(root / pod / m["name"]) for m in spec.get("volumeMounts", [])}

    venv_bin = pathlib.Path(sys.executable).parent
    return Paths(
        synapse=mounts("synapse"),
        postgres=mounts("postgres"),
        nginx=mounts("nginx"),
        admin_job=mounts("admin_job"),
        programs={
            "python": sys.executable,
            "register_new_matrix_user": str(venv_bin / "register_new_matrix_user"),
            "nginx": servers.NGINX,
        },
    )


def materialise(pod: str, artifacts: Artifacts, paths: Paths, user: servers.User | None = None) -> None:
    """The pod's volumes as its container sees them, under the local paths of its mounts."""
    spec = artifacts.pods[pod]
    local = getattr(paths, pod)
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for mount in container(spec, POD_CONTAINERS[pod]).get("volumeMounts", []):
        target = servers.make_dir(pathlib.Path(local[mount["mountPath"]]), user)
        # A StatefulSet's volumeClaimTemplates are not in the pod's volumes: an empty disk.
        volume = volumes.get(mount["name"], {})
        if "secret" in volume:
            data, kind, mode = artifacts.secrets[volume["secret"]["secretName"]], "secret", 0o600
        elif "configMap" in volume:
            data, kind, mode = artifacts.config_maps[volume["configMap"]["name"]], "configMap", 0o644
        else:
            continue
        items = volume[kind].get("items") or [{"key": k, "path": k} for k in data]
        for item in items:
            servers.write_file(target / item["path"], data[item["key"]], user, mode)


def _argument(argv: list[str], flag: str) -> pathlib.Path:
    return pathlib.Path(argv[argv.index(flag) + 1])


def install_synapse(artifacts: Artifacts, loopback: Config, paths: Paths) -> pathlib.Path:
    """The synapse pod's volumes, with the remapped homeserver.yaml where `-c` reads it."""
    materialise("synapse", artifacts, paths)
    config = _argument(loopback.synapse_command, "-c")
    servers.write_file(config, yaml.safe_dump(loopback.homeserver), mode=0o600)
    return config


def install_admin_job(artifacts: Artifacts, loopback: Config, paths: Paths) -> pathlib.Path:
    """The registration Job's volumes (config, shared secret, admin password)."""
    materialise("admin_job", artifacts, paths)
    config = _argument(loopback.admin_command, "--config")
    servers.write_file(config, yaml.safe_dump(loopback.admin_homeserver), mode=0o600)
    return config


def install_nginx(artifacts: Artifacts, loopback: Config, paths: Paths, user) -> pathlib.Path:
    """The nginx pod's volumes, with the remapped nginx.conf; returns the ConfigMap directory."""
    materialise("nginx", artifacts, paths, user)
    config = _argument(loopback.nginx_command, "-c")
    servers.write_file(config, nginxconf.dump(loopback.nginx_conf), user)
    for name, document in loopback.well_known.items():
        # Byte for byte as in the ConfigMap, unless the remap changed the document.
        if json.loads(artifacts.well_known_files[name]) != document:
            servers.write_file(config.parent / name, json.dumps(document, indent=2) + "\n", user)
    return config.parent


def python_path(artifacts: Artifacts, pod: str, paths: Paths) -> dict[str, str]:
    """The container's PYTHONPATH (the synapse chart's sitecustomize.py), moved to where its
    mount is laid out here; {} when the container sets none."""
    spec = container(artifacts.pods[pod], POD_CONTAINERS[pod])
    value = next((e.get("value") for e in spec.get("env", []) if e["name"] == "PYTHONPATH"), None)
    if not value:
        return {}
    local = [pod_path_to_local(getattr(paths, pod), part) for part in value.split(":")]
    return {"PYTHONPATH": ":".join(local)}


def postgres_socket_dir(paths: Paths) -> pathlib.Path | None:
    """Where the image keeps the server's Unix socket, if the chart mounts it."""
    path = paths.postgres.get("/var/run/postgresql")
    return pathlib.Path(path) if path else None


def postgres_init_dir(paths: Paths) -> pathlib.Path | None:
    """The image's first-start scripts (the chart's ConfigMap), if the chart mounts any."""
    path = paths.postgres.get("/docker-entrypoint-initdb.d")
    return pathlib.Path(path) if path else None
