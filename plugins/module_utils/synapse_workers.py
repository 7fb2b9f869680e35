# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The user's `synapse_workers`, checked and expanded into named worker instances.

Pure Python, no Ansible imports. The user writes workers like homeserver.yaml, by type:

    synapse_workers: {synchrotron: {replicas: 2}, event_persister: {instances: 2}, media_repository: {}}
    synapse_workers: one-of-each                    # a preset (synapse_worker_types.PRESETS)
    synapse_workers: {preset: federation-helper, federation_sender: {replicas: 2}}

Per type: `replicas` (types that scale with copies), `instances` (stream writers that scale
with shards) and `config`, a homeserver.yaml-style mapping merged over the computed worker
file with homeserver_merge. parse_workers() returns {type: WorkerSpec}; every mistake is a
WorkersError naming `synapse_workers.<type>` and the valid choices. derivation lives in
synapse_worker_config.py, routing in synapse_worker_routes.py.

Instance names are `<type with - for _>-<ordinal>`, e.g. `event-persister-0`: a DNS label
(Kubernetes will run each as StatefulSet pod `<release>-event-persister-0`) and a valid
Synapse instance name, and independent of the release name: Synapse stores writer names in
the database (stream positions), so they must not change when a release is renamed.
"""

import difflib
import re
from collections.abc import Mapping

from ansible_collections.matrixk8s.synapse.plugins.module_utils.errors import MatrixK8sError
from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_worker_types import (
    PRESETS,
    WORKER_TYPES,
)

SETTINGS = ("replicas", "instances", "config")
# Enough for any single Synapse; a typo such as 200 for 2 is refused instead of started.
MAX_COUNT = 64
_INSTANCE_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)


class WorkersError(MatrixK8sError):
    """A mistake in synapse_workers or the Redis it needs, for the person who made it."""


class WorkerSpec:
    """One configured worker type: how many processes and the user's config override."""

    __slots__ = ("type", "count", "config")

    def __init__(self, worker_type, count, config):
        self.type = worker_type  # a synapse_worker_types.WorkerType
        self.count = count
        self.config = config  # the user's override (mapping or YAML string), merged later

    @property
    def instances(self):
        """Stable instance names, ordinal order: `<type>-0`, `<type>-1`, ..."""
        return [instance_name(self.type.name, i) for i in range(self.count)]

    def __repr__(self):
        return f"WorkerSpec({self.type.name!r}, count={self.count})"


def instance_name(type_name, ordinal):
    name = f"{WORKER_TYPES[type_name].dns_name}-{ordinal}"
    if not _INSTANCE_NAME.fullmatch(name):  # a catalogue bug, not a user mistake
        raise AssertionError(f"{name!r} is not a DNS label")
    return name


def _choices(names):
    return ", ".join(sorted(names))


def _hint(word, names):
    close = difflib.get_close_matches(str(word), list(names), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _preset(name, where):
    if not isinstance(name, str) or name not in PRESETS:
        raise WorkersError(
            f"{where} is {name!r}, which is not a preset the collection knows{_hint(name, PRESETS)}; "
            f"valid presets: {_choices(PRESETS)}"
        )
    return PRESETS[name]


def _count(value, where):
    if isinstance(value, bool) or not isinstance(value, int):
        raise WorkersError(f"{where} must be a whole number from 1 to {MAX_COUNT}, got {value!r}")
    if not 1 <= value <= MAX_COUNT:
        raise WorkersError(
            f"{where} must be from 1 to {MAX_COUNT}, got {value} "
            "(to run no worker of a type, leave the type out)"
        )
    return value


def _spec(type_name, settings, name):
    where = f"{name}.{type_name}"
    if type_name not in WORKER_TYPES:
        raise WorkersError(
            f"{where}: {type_name!r} is not a worker type the collection knows"
            f"{_hint(type_name, WORKER_TYPES)}; "
            f"valid types: {_choices(WORKER_TYPES)}"
        )
    worker_type = WORKER_TYPES[type_name]
    if settings is None:  # `media_repository:` with nothing under it
        settings = {}
    if not isinstance(settings, Mapping):
        raise WorkersError(
            f"{where} must be a mapping of {', '.join(SETTINGS)} (or empty), got {type(settings).__name__}"
        )
    for key in settings:
        if key not in SETTINGS:
            raise WorkersError(
                f"{where}.{key} is not a worker setting{_hint(key, SETTINGS)}; "
                f"valid settings: {', '.join(SETTINGS)}"
            )
    replicas = _count(settings["replicas"], f"{where}.replicas") if "replicas" in settings else None
    instances = _count(settings["instances"], f"{where}.instances") if "instances" in settings else None

    if worker_type.scaling == "replicas":
        if instances is not None:
            raise WorkersError(
                f"{where}.instances: {type_name} is not a stream writer; it scales with replicas "
                f"(copies behind one router upstream), e.g. {where}.replicas: {instances}"
            )
        count = replicas or 1
    elif worker_type.scaling == "instances":
        if replicas is not None and replicas > 1:
            raise WorkersError(
                f"{where}.replicas is {replicas}, but a {type_name} is a stream writer: each instance is "
                f"a singleton with a stable name that Synapse lists in stream_writers.{worker_type.stream}, "
                f"so replicas must be 1. Scale it with {where}.instances: {replicas}"
            )
        count = instances or 1
    else:  # singleton
        for key, value in (("replicas", replicas), ("instances", instances)):
            if value is not None and value != 1:
                what = (
                    f"the one {worker_type.stream} stream writer"
                    if worker_type.is_stream_writer
                    else (f"named alone in {worker_type.duty}")
                )
                raise WorkersError(
                    f"{where}.{key} is {value}, but Synapse runs exactly one {type_name} ({what}); "
                    f"{key} must be 1 or left out"
                )
        count = 1
    return WorkerSpec(worker_type, count, settings.get("config"))


def parse_workers(value, name="synapse_workers"):
    """{type name: WorkerSpec} in catalogue order; {} (the monolith) for None, '' or {}."""
    if value is None or value == "" or value == {}:
        return {}
    if isinstance(value, str):
        value = _preset(value, name)
    if not isinstance(value, Mapping):
        raise WorkersError(
            f"{name} must be a mapping of worker types (or a preset name: {_choices(PRESETS)}), "
            f"got {type(value).__name__}"
        )
    wanted = {}
    if "preset" in value:
        wanted.update(_preset(value["preset"], f"{name}.preset"))
    for key, settings in value.items():
        if key == "preset":
            continue
        wanted[key] = settings
    # A preset's entries are {}; the user's own entry for the same type replaces it.
    specs = {key: _spec(key, settings, name) for key, settings in wanted.items()}
    return {type_name: specs[type_name] for type_name in WORKER_TYPES if type_name in specs}


# --- Redis ----------------------------------------------------------------------------------

REDIS_SETTINGS = ("host", "port", "password_path", "dbid")


def checked_redis(value, workers, name="synapse_redis", workers_name="synapse_workers"):
    """The `redis` section of the shared config for value ({host, port, password_path, dbid}).

    Workers need Redis (Synapse's replication between processes runs over it): with workers
    and no Redis the error says so; without workers the result is {} (the monolith).
    """
    if not workers:
        return {}
    if value is None or value == {}:
        raise WorkersError(
            f"{workers_name} asks for {_choices(workers)}, and workers need Redis (Synapse replicates "
            f"between processes over it): set {name} with host (and port, password_path)"
        )
    if not isinstance(value, Mapping):
        raise WorkersError(
            f"{name} must be a mapping of {', '.join(REDIS_SETTINGS)}, got {type(value).__name__}"
        )
    for key in value:
        if key not in REDIS_SETTINGS:
            raise WorkersError(
                f"{name}.{key} is not a Redis setting{_hint(key, REDIS_SETTINGS)}; valid settings: "
                f"{', '.join(REDIS_SETTINGS)} (the password is read from a file: password_path)"
            )
    host = value.get("host")
    if not isinstance(host, str) or not host or any(c.isspace() for c in host):
        raise WorkersError(f"{name}.host must be a host name or address without spaces, got {host!r}")
    port = value.get("port", 6379)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise WorkersError(f"{name}.port must be a TCP port (1-65535), got {port!r}")
    redis = {"enabled": True, "host": str.__str__(host), "port": int(port)}
    if value.get("password_path") is not None:
        path = value["password_path"]
        if not isinstance(path, str) or not path.startswith("/"):
            # Never quote it: a password pasted here by mistake would be printed.
            raise WorkersError(
                f"{name}.password_path must be an absolute path to a file holding the password "
                "(Synapse's redis.password_path), not the password itself"
            )
        redis["password_path"] = str.__str__(path)
    if value.get("dbid") is not None:
        dbid = value["dbid"]
        if isinstance(dbid, bool) or not isinstance(dbid, int) or dbid < 0:
            raise WorkersError(f"{name}.dbid must be a Redis database number (0 or more), got {dbid!r}")
        redis["dbid"] = int(dbid)
    return redis
