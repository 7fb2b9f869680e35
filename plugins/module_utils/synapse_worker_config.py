# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything Synapse needs to run with workers, derived from synapse_workers.

Pure Python, no Ansible imports. derive_workers() takes the user's workers (see
synapse_workers.py), the main process's homeserver.yaml, the Redis settings and where each
process will listen, and returns:

  main       the main process's homeserver.yaml with the shared worker options added:
             redis, instance_map (main and every stream writer), stream_writers, the duty
             options (federation_sender_instances, pusher_instances, run_background_tasks_on,
             media_instance_running_background_jobs, notify_appservices_from_worker,
             update_user_directory_from_worker), enable_media_repo: false with a media
             worker, enable_metrics, and two listeners: replication and metrics.
             Workers read this same file first (it is the shared configuration).
  workers    {instance name: the worker's own file}: worker_app, worker_name and
             worker_listeners (http with the resources its type serves, or health alone;
             replication when the instance is in instance_map; metrics on every process),
             with the user's per-type `config` merged over it by homeserver_merge.
  addresses  {instance name or 'main': {host, http, replication, metrics}} (ports or None),
             for the router and the tests.
  types      {type name: [instance names]}.

Only current options are written: no send_federation, start_pushers, notify_appservices or
update_user_directory (deprecated since 1.59 and later; Synapse warns about them).
"""

from collections.abc import Mapping

from ansible_collections.matrixk8s.synapse.plugins.module_utils.homeserver_config import (
    homeserver_merge,
    load_mapping,
)
from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_worker_types import SINGLE_NAME_DUTIES
from ansible_collections.matrixk8s.synapse.plugins.module_utils.synapse_workers import (
    WorkersError,
    checked_redis,
    parse_workers,
)

MAIN = "main"  # the main process's name in instance_map (Synapse's MAIN_PROCESS_INSTANCE_MAP_NAME)
DEFAULT_PORTS = {"http": 8008, "replication": 9093, "metrics": 9000}
DEFAULT_BIND_ADDRESSES = ("0.0.0.0",)

# Shared options derive_workers() writes; the main config given to it may not set them already
# (the user would be overriding what the collection derives, silently).
DERIVED_OPTIONS = (
    "redis",
    "instance_map",
    "stream_writers",
    "federation_sender_instances",
    "pusher_instances",
    "run_background_tasks_on",
    "media_instance_running_background_jobs",
    "notify_appservices_from_worker",
    "update_user_directory_from_worker",
    "worker_replication_secret_path",
)
# Deprecated forms of the duties: with them, a process could run a duty twice or not at all.
DEPRECATED_DUTY_OPTIONS = ("send_federation", "start_pushers", "notify_appservices", "update_user_directory")
# What a user's per-type `config` may not set: the collection's names and listeners (the
# router and instance_map point at them).
WORKER_PROTECTED = {
    "worker_app": "the worker type",
    "worker_name": "nothing: instance names are derived from the type",
    "worker_listeners": "nothing: the router and instance_map rely on the derived ports",
}


class Network:
    """Where the processes listen and how they reach each other.

    main_host       the address workers use for the main process's replication listener
    instance_host   a template with {instance}, e.g. '{instance}.synapse-workers.ns.svc', or
                    one host for all (then instance_ports must keep their ports apart)
    ports           {http, replication, metrics} of every worker (each worker is its own pod)
    main_ports      {replication, metrics} of the main process
    instance_ports  {instance: {http, replication, metrics}} overrides (several processes on
                    one host, as in the real-server tests)
    bind_addresses  the listeners' bind addresses
    """

    def __init__(self, value, name="network"):
        if not isinstance(value, Mapping):
            raise WorkersError(f"{name} must be a mapping, got {type(value).__name__}")
        unknown = set(value) - {
            "main_host",
            "instance_host",
            "ports",
            "main_ports",
            "instance_ports",
            "bind_addresses",
            "replication_secret_path",
        }
        if unknown:
            raise WorkersError(f"{name} has unknown keys: {', '.join(sorted(map(str, unknown)))}")
        self.main_host = value.get("main_host")
        self.instance_host = value.get("instance_host")
        for key in ("main_host", "instance_host"):
            if not isinstance(value.get(key), str) or not value[key]:
                raise WorkersError(f"{name}.{key} must be a non-empty string")
        self.ports = {**DEFAULT_PORTS, **(value.get("ports") or {})}
        self.main_ports = {**DEFAULT_PORTS, **(value.get("main_ports") or {})}
        self.instance_ports = dict(value.get("instance_ports") or {})
        self.bind_addresses = list(value.get("bind_addresses") or DEFAULT_BIND_ADDRESSES)
        self.replication_secret_path = value.get("replication_secret_path")

    def host(self, instance):
        return self.instance_host.format(instance=instance)

    def port(self, instance, kind):
        return {**self.ports, **(self.instance_ports.get(instance) or {})}[kind]


def _listener(port, names, bind_addresses):
    return {
        "port": port,
        "type": "http",
        "tls": False,
        "x_forwarded": True,
        "bind_addresses": list(bind_addresses),
        "resources": [{"names": list(names), "compress": False}],
    }


def _metrics_listener(port, bind_addresses):
    # Prometheus' own HTTP server, apart from the serving listeners (needs enable_metrics).
    return {"port": port, "type": "metrics", "bind_addresses": list(bind_addresses)}


def _check_main(main, label):
    for key in (*DERIVED_OPTIONS, *DEPRECATED_DUTY_OPTIONS):
        if key in main:
            raise WorkersError(
                f"{label} sets '{key}', which the collection derives from synapse_workers; "
                "describe the workers in synapse_workers instead"
            )


def derive_workers(
    workers,
    main_config,
    redis,
    network,
    name="synapse_workers",
    redis_name="synapse_redis",
    main_label="synapse_homeserver",
):
    """See the module docstring. workers is the user's value (or parse_workers' result)."""
    specs = workers if _is_parsed(workers) else parse_workers(workers, name)
    main = load_mapping(main_config, main_label)
    if not specs:
        return {"main": main, "workers": {}, "addresses": {}, "types": {}}
    net = Network(network)
    redis_section = checked_redis(redis, specs, redis_name, name)
    _check_main(main, main_label)

    types = {type_name: spec.instances for type_name, spec in specs.items()}
    writers = {
        instance for spec in specs.values() if spec.type.is_stream_writer for instance in spec.instances
    }

    shared = {
        "redis": redis_section,
        "enable_metrics": True,
        "instance_map": {MAIN: {"host": net.main_host, "port": net.main_ports["replication"]}},
    }
    for instance in sorted(writers, key=_ordinal_key):
        shared["instance_map"][instance] = {
            "host": net.host(instance),
            "port": net.port(instance, "replication"),
        }
    stream_writers = {
        spec.type.stream: spec.instances for spec in specs.values() if spec.type.is_stream_writer
    }
    if stream_writers:
        shared["stream_writers"] = stream_writers
    for spec in specs.values():
        duty = spec.type.duty
        if duty is None:
            continue
        # A single-name duty takes the first instance: the others of its type (media
        # repositories past the first) serve requests but leave the background jobs alone.
        shared[duty] = spec.instances[0] if duty in SINGLE_NAME_DUTIES else spec.instances
    if "media_repository" in specs:
        # The main process stops serving media and running its jobs (docs/workers.md).
        shared["enable_media_repo"] = False
    if net.replication_secret_path:
        shared["worker_replication_secret_path"] = net.replication_secret_path

    main_listeners = list(main.get("listeners") or [])
    shared["listeners"] = [
        *main_listeners,
        _listener(net.main_ports["replication"], ["replication"], net.bind_addresses),
        _metrics_listener(net.main_ports["metrics"], net.bind_addresses),
    ]
    merged_main = homeserver_merge(main, shared, strict=False)

    addresses = {
        MAIN: {
            "host": net.main_host,
            "http": None,
            "replication": net.main_ports["replication"],
            "metrics": net.main_ports["metrics"],
        }
    }
    files = {}
    for type_name, spec in specs.items():
        for instance in spec.instances:
            http = net.port(instance, "http")
            listeners = [_listener(http, spec.type.resources or ["health"], net.bind_addresses)]
            replication = None
            if instance in writers:
                replication = net.port(instance, "replication")
                listeners.append(_listener(replication, ["replication"], net.bind_addresses))
            metrics = net.port(instance, "metrics")
            listeners.append(_metrics_listener(metrics, net.bind_addresses))
            base = {"worker_app": spec.type.app, "worker_name": instance, "worker_listeners": listeners}
            files[instance] = homeserver_merge(
                base,
                spec.config,
                protected=WORKER_PROTECTED,
                names=[f"{name}.{type_name}.config"],
            )
            addresses[instance] = {
                "host": net.host(instance),
                "http": http if spec.type.resources else None,
                "health": http,
                "replication": replication,
                "metrics": metrics,
            }
    _check_no_shared_port(addresses, main_listeners, net.main_host)
    return {"main": merged_main, "workers": files, "addresses": addresses, "types": types}


def _check_no_shared_port(addresses, main_listeners, main_host):
    """Refuse a network where two listeners would bind one host:port."""
    seen = {(main_host, listener.get("port")): "main" for listener in main_listeners}
    for instance, address in addresses.items():
        for kind in ("health", "replication", "metrics"):
            port = address.get(kind)
            if port is None:
                continue
            key = (address["host"], port)
            if key in seen and seen[key] != instance:
                raise WorkersError(
                    f"network: {instance} ({kind}) and {seen[key]} would both listen on {key[0]}:{port}; "
                    "give instance_host an {instance} or instance_ports their own ports"
                )
            seen[key] = instance


def _is_parsed(workers):
    return (
        isinstance(workers, dict) and all(hasattr(v, "instances") for v in workers.values()) and bool(workers)
    )


def _ordinal_key(instance):
    stem, ordinal = instance.rsplit("-", 1)
    return stem, int(ordinal)
