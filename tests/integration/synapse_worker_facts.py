"""Load Synapse configurations the way Synapse's programs do, and print what Synapse made of them.

Run as a program (one process for every configuration, so the test pays Synapse's import once):
    python synapse_worker_facts.py MAIN.yaml [WORKER.yaml ...]
For the main process it loads MAIN.yaml alone, as synapse.app.homeserver does; for each worker
it loads MAIN.yaml then WORKER.yaml, as synapse.app.generic_worker.load_config does. Prints
one JSON object: {"main" or worker_name: facts}, or {"error": ...} per file Synapse refused.
"""

import json
import sys

from synapse.config._base import ConfigError
from synapse.config.homeserver import HomeServerConfig


def facts(config):
    worker = config.worker
    return {
        "worker_app": worker.worker_app,
        "worker_name": worker.worker_name,
        "instance_name": worker.instance_name,
        "instance_map": sorted(worker.instance_map),
        "writers": {
            stream: list(getattr(worker.writers, stream))
            for stream in (
                "events",
                "typing",
                "to_device",
                "account_data",
                "receipts",
                "presence",
                "push_rules",
                "device_lists",
            )
        },
        "send_federation": worker.send_federation,
        "start_pushers": worker.start_pushers,
        "run_background_tasks": worker.run_background_tasks,
        "should_notify_appservices": worker.should_notify_appservices,
        "should_update_user_directory": worker.should_update_user_directory,
        "can_load_media_repo": config.media.can_load_media_repo,
        "media_background_jobs": getattr(config.media, "media_instance_running_background_jobs", None),
        "redis_enabled": config.redis.redis_enabled,
        "redis_password_read": config.redis.redis_password is not None,
        "listeners": sorted(
            [
                listener.type,
                sorted(
                    n
                    for r in (listener.http_options.resources if listener.http_options else [])
                    for n in r.names
                ),
            ]
            for listener in (worker.worker_listeners if worker.worker_app else config.server.listeners)
        ),
    }


def main(main_path, *worker_paths):
    result = {}
    for label, argv in [("main", ["-c", main_path])] + [
        (path, ["-c", main_path, "-c", path]) for path in worker_paths
    ]:
        try:
            config = HomeServerConfig.load_config("Synapse worker" if label != "main" else "Synapse", argv)
        except ConfigError as err:
            result[label] = {"error": str(err)}
            continue
        result[config.worker.worker_name or "main"] = facts(config)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:])
