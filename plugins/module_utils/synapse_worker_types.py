# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The worker types the collection knows, in Synapse's terms, and the presets built from them.

Pure data, no Ansible imports. Each type says which Synapse program runs it, how it scales,
which HTTP resources its listener serves, and which shared option names its instances
(the "duty"). Which endpoints it serves is in synapse_worker_routes.py.

How a type scales (`scaling`):
  replicas   interchangeable copies behind one upstream of the router (synchrotron, ...).
             Each copy still gets its own stable instance name: Synapse tells processes apart
             by name over Redis (a synchrotron's presence state is kept per instance name),
             and sharded duties (federation_sender_instances, pusher_instances) list names.
  instances  distinct shards that Synapse names one by one in stream_writers (event
             persisters, receipts writers). Each instance is a singleton: two processes with
             one writer name would both write the same stream.
  singleton  exactly one process (Synapse allows one typing writer, one user directory
             updater, ...): replicas and instances other than 1 are refused.
"""

GENERIC_WORKER = "synapse.app.generic_worker"
# The dedicated media application: it loads the media repository although the shared config
# says enable_media_repo: false (synapse/config/repository.py), which keeps the main process
# from running the media background jobs.
MEDIA_REPOSITORY = "synapse.app.media_repository"


class WorkerType:
    """One kind of worker: see the module docstring for `scaling`."""

    __slots__ = ("name", "app", "scaling", "resources", "duty", "stream", "description")

    def __init__(
        self,
        name,
        *,
        app=GENERIC_WORKER,
        scaling="replicas",
        resources=(),
        duty=None,
        stream=None,
        description="",
    ):
        self.name = name
        self.app = app
        self.scaling = scaling
        self.resources = tuple(resources)  # names of the http listener's resources; () = no listener
        self.duty = duty  # the shared option that names this type's instances, if any
        self.stream = stream  # the stream_writers key, for stream writers
        self.description = description

    @property
    def is_stream_writer(self):
        return self.stream is not None

    @property
    def dns_name(self):
        """The type as it appears in instance and Kubernetes names ('_' is not allowed there)."""
        return self.name.replace("_", "-")


def _writer(name, stream, scaling, resources=("client",)):
    return WorkerType(
        name,
        scaling=scaling,
        resources=resources,
        stream=stream,
        description=f"writes the {stream} stream",
    )


# Streams Synapse 1.163 lets several instances write (synapse/config/workers.py checks that
# typing, to_device, account_data, presence and push_rules have exactly one writer).
WORKER_TYPES = {
    t.name: t
    for t in (
        WorkerType("synchrotron", resources=("client",), description="serves /sync and the other long-polls"),
        WorkerType(
            "client_reader", resources=("client",), description="serves client API reads, keys, login"
        ),
        WorkerType(
            "event_creator", resources=("client",), description="serves event sending (rooms/*/send, ...)"
        ),
        WorkerType("federation_reader", resources=("federation",), description="serves inbound federation"),
        WorkerType(
            "media_repository",
            app=MEDIA_REPOSITORY,
            resources=("media",),
            duty="media_instance_running_background_jobs",
            description="serves media upload and download",
        ),
        WorkerType("federation_sender", duty="federation_sender_instances", description="sends federation"),
        WorkerType("pusher", duty="pusher_instances", description="sends push notifications"),
        WorkerType(
            "user_dir",
            scaling="singleton",
            resources=("client",),
            duty="update_user_directory_from_worker",
            description="updates and searches the user directory",
        ),
        WorkerType(
            "appservice",
            scaling="singleton",
            duty="notify_appservices_from_worker",
            description="notifies application services",
        ),
        WorkerType(
            "background_worker",
            scaling="singleton",
            duty="run_background_tasks_on",
            description="runs the background tasks",
        ),
        # The events stream has no endpoints of its own: event sending goes to event_creator
        # (or main), which hands the event to its persister over replication.
        _writer("event_persister", "events", "instances", resources=()),
        _writer("typing_writer", "typing", "singleton"),
        _writer("to_device_writer", "to_device", "singleton"),
        _writer("account_data_writer", "account_data", "singleton"),
        _writer("receipts_writer", "receipts", "instances"),
        _writer("presence_writer", "presence", "singleton"),
        _writer("push_rules_writer", "push_rules", "singleton"),
        _writer("device_lists_writer", "device_lists", "instances"),
    )
}

# Duties Synapse reads as one instance name (the others take a list).
SINGLE_NAME_DUTIES = frozenset(
    (
        "media_instance_running_background_jobs",
        "update_user_directory_from_worker",
        "notify_appservices_from_worker",
        "run_background_tasks_on",
    )
)

# Shapes of workers users ask for by name. Each is an ordinary synapse_workers mapping, so a
# preset can be combined with per-type settings: {preset: one-of-each, synchrotron: {replicas: 2}}.
PRESETS = {
    # Every type the collection knows, one process each.
    "one-of-each": {name: {} for name in WORKER_TYPES},
    # The common split: sync, reads, sending, federation both ways, media, push, persistence.
    "common": {
        name: {}
        for name in (
            "synchrotron",
            "client_reader",
            "event_creator",
            "federation_reader",
            "federation_sender",
            "media_repository",
            "pusher",
            "event_persister",
        )
    },
    # A server in many federated rooms: inbound and outbound federation off the main process.
    "federation-helper": {"federation_reader": {}, "federation_sender": {}},
}
