# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which request paths go to which worker type, and an nginx router built from that table.

Pure Python, no Ansible imports. The table follows Synapse's worker documentation
(docs/workers.md, "Available worker applications" and "Stream writers"), reviewed for the
version in ROUTES_SYNAPSE_VERSION: every pattern is checked against the servlets that version
serves on a worker by tests/realserver/test_workers.py (a sample path per pattern, sent to a
real worker, must not be answered 404 M_UNRECOGNIZED), since the docs text read for the table
was newer than that release. A unit test fails when the
Synapse the project pins differs from ROUTES_SYNAPSE_VERSION: on an upgrade, compare the new
docs/workers.md with this table, then change the version here.

Left out on purpose (they stay on the main process, which serves every endpoint):
  - endpoints a generic worker serves for GET only (pushrules, tags, account_data, presence,
    delayed_events): routing them needs method-aware rules; their stream writers take them
    all, methods included, when configured;
  - /rooms/*/messages (pagination must stick to one process per room);
  - SSO and MSC3861 endpoints (all of one login must reach one process);
  - `/_synapse/media/`, which newer docs list but 1.163.2 does not serve.

Order matters: nginx tries `location ~` blocks in file order and takes the first match, so
stream writers' endpoints come before the generic groups that overlap them (device_lists'
keys/upload before client_reader's keys/*).
"""

import re

ROUTES_SYNAPSE_VERSION = "1.163.2"
ROUTES_SOURCE = "element-hq/synapse docs/workers.md (Available worker applications, Stream writers)"

_C = "^/_matrix/client/"
_F = "^/_matrix/federation/"

# (worker type, section of docs/workers.md, patterns), in routing order.
ROUTES = (
    # Stream writers: "should be routed directly to the worker configured as the writer".
    ("typing_writer", "The typing stream", (_C + r"(api/v1|r0|v3|unstable)/rooms/.*/typing",)),
    ("to_device_writer", "The to_device stream", (_C + r"(r0|v3|unstable)/sendToDevice/",)),
    (
        "account_data_writer",
        "The account_data stream",
        (_C + r"(r0|v3|unstable)/.*/tags", _C + r"(r0|v3|unstable)/.*/account_data"),
    ),
    (
        "receipts_writer",
        "The receipts stream",
        (_C + r"(r0|v3|unstable)/rooms/.*/receipt", _C + r"(r0|v3|unstable)/rooms/.*/read_markers"),
    ),
    ("presence_writer", "The presence stream", (_C + r"(api/v1|r0|v3|unstable)/presence/",)),
    ("push_rules_writer", "The push_rules stream", (_C + r"(api/v1|r0|v3|unstable)/pushrules/",)),
    (
        "device_lists_writer",
        "The device_lists stream",
        (
            _C + r"(r0|v3)/delete_devices$",
            _C + r"(api/v1|r0|v3|unstable)/devices(/|$)",
            _C + r"(r0|v3|unstable)/keys/upload",
            _C + r"(api/v1|r0|v3|unstable)/keys/device_signing/upload$",
            _C + r"(api/v1|r0|v3|unstable)/keys/signatures/upload$",
        ),
    ),
    ("user_dir", "Updating the User Directory", (_C + r"(r0|v3|unstable)/user_directory/search$",)),
    (
        "media_repository",
        "synapse.app.media_repository",
        (
            r"^/_matrix/media/",
            _C + r"v1/media/",
            _F + r"v1/media/",
            r"^/_synapse/admin/v1/purge_media_cache$",
            r"^/_synapse/admin/v1/room/.*/media.*$",
            r"^/_synapse/admin/v1/user/.*/media.*$",
            r"^/_synapse/admin/v1/media/.*$",
            r"^/_synapse/admin/v1/quarantine_media/.*$",
            r"^/_synapse/admin/v1/users/.*/media$",
        ),
    ),
    (
        "synchrotron",
        "synapse.app.generic_worker: Sync requests",
        (
            _C + r"(r0|v3)/sync$",
            _C + r"(api/v1|r0|v3)/events$",
            _C + r"(api/v1|r0|v3)/initialSync$",
            _C + r"(api/v1|r0|v3)/rooms/[^/]+/initialSync$",
        ),
    ),
    (
        "event_creator",
        "synapse.app.generic_worker: Event sending requests",
        (
            _C + r"(api/v1|r0|v3|unstable)/rooms/.*/redact",
            _C + r"(api/v1|r0|v3|unstable)/rooms/.*/send",
            _C + r"(api/v1|r0|v3|unstable)/rooms/.*/state/",
            _C + r"(api/v1|r0|v3|unstable)/rooms/.*/(join|invite|leave|ban|unban|kick)$",
            _C + r"(api/v1|r0|v3|unstable)/join/",
            _C + r"(api/v1|r0|v3|unstable)/knock/",
            _C + r"(api/v1|r0|v3|unstable)/profile/",
        ),
    ),
    (
        "federation_reader",
        "synapse.app.generic_worker: Federation requests, Inbound federation transaction request",
        (
            _F + r"v1/version$",
            _F + r"v1/event/",
            _F + r"v1/state/",
            _F + r"v1/state_ids/",
            _F + r"v1/backfill/",
            _F + r"v1/get_missing_events/",
            _F + r"v1/publicRooms",
            _F + r"v1/query/",
            _F + r"v1/make_join/",
            _F + r"v1/make_leave/",
            _F + r"(v1|v2)/send_join/",
            _F + r"(v1|v2)/send_leave/",
            _F + r"v1/make_knock/",
            _F + r"v1/send_knock/",
            _F + r"(v1|v2)/invite/",
            _F + r"v1/event_auth/",
            _F + r"v1/timestamp_to_event/",
            _F + r"v1/exchange_third_party_invite/",
            _F + r"v1/user/devices/",
            r"^/_matrix/key/v2/query",
            _F + r"v1/hierarchy/",
            _F + r"v1/send/",
        ),
    ),
    (
        "client_reader",
        "synapse.app.generic_worker: Client API, Encryption, Registration/login requests",
        (
            _C + r"(api/v1|r0|v3|unstable)/createRoom$",
            _C + r"(api/v1|r0|v3|unstable)/publicRooms$",
            _C + r"(api/v1|r0|v3|unstable)/rooms/.*/joined_members$",
            _C + r"(api/v1|r0|v3|unstable)/rooms/.*/context/.*$",
            _C + r"(api/v1|r0|v3|unstable)/rooms/.*/members$",
            _C + r"(api/v1|r0|v3|unstable)/rooms/.*/state$",
            _C + r"v1/rooms/.*/hierarchy$",
            _C + r"(v1|unstable)/rooms/.*/relations/",
            _C + r"v1/rooms/.*/threads$",
            _C + r"unstable/im.nheko.summary/summary/.*$",
            _C + r"(r0|v3|unstable)/account/3pid$",
            _C + r"(r0|v3|unstable)/account/whoami$",
            _C + r"(r0|v3|unstable)/account/deactivate$",
            _C + r"(r0|v3)/delete_devices$",
            _C + r"(api/v1|r0|v3|unstable)/devices(/|$)",
            _C + r"versions$",
            _C + r"(api/v1|r0|v3|unstable)/voip/turnServer$",
            _C + r"(api/v1|r0|v3|unstable)/rooms/.*/event/",
            _C + r"(api/v1|r0|v3|unstable)/joined_rooms$",
            _C + r"v1/rooms/.*/timestamp_to_event$",
            _C + r"(api/v1|r0|v3|unstable/.*)/rooms/.*/aliases",
            _C + r"(api/v1|r0|v3|unstable)/search$",
            _C + r"(r0|v3|unstable)/user/.*/filter(/|$)",
            _C + r"(api/v1|r0|v3|unstable)/directory/room/.*$",
            _C + r"(r0|v3|unstable)/capabilities$",
            _C + r"(r0|v3|unstable)/notifications$",
            r"^/_synapse/admin/v1/rooms/[^/]+$",
            _C + r"(r0|v3|unstable)/keys/query$",
            _C + r"(r0|v3|unstable)/keys/changes$",
            _C + r"(r0|v3|unstable)/keys/claim$",
            _C + r"(r0|v3|unstable)/room_keys/",
            _C + r"(r0|v3|unstable)/keys/upload",
            _C + r"(api/v1|r0|v3|unstable)/keys/device_signing/upload$",
            _C + r"(api/v1|r0|v3|unstable)/keys/signatures/upload$",
            _C + r"(api/v1|r0|v3|unstable)/login$",
            _C + r"(r0|v3|unstable)/register$",
            _C + r"(r0|v3|unstable)/register/available$",
            _C + r"v1/register/m.login.registration_token/validity$",
            _C + r"(r0|v3|unstable)/password_policy$",
        ),
    ),
)

# Long-polls: a /sync waits up to the client's timeout (30 s for most clients, some ask more)
# before answering, so nginx must wait longer than its 60 s default would allow for slow ones.
LONG_POLL_TYPES = frozenset(("synchrotron",))
LONG_POLL_READ_TIMEOUT = "180s"


def routes_for(types):
    """[(worker type, pattern)] in routing order, only for the configured types."""
    return [(route[0], pattern) for route in ROUTES if route[0] in types for pattern in route[2]]


def upstream_name(worker_type):
    return f"synapse_{worker_type}"


def size_bytes(value):
    """Synapse's max_upload_size in bytes (synapse/config/_base.py parse_size: K, M, G, T)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    units = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    if text[-1:] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text)


def _server_line(address):
    return f"        server {address};"


def render_nginx_router(derived, main_address, listen):
    """The http-level part of an nginx.conf (upstreams, one server) that routes by the table.

    derived is derive_workers()'s result, main_address 'host:port' of the main process's
    client/federation listener, listen the server's `listen` argument. Every path no route
    matches goes to the main process. nginx refuses bodies over the main config's
    max_upload_size (Synapse's default 50M) itself, before they reach a worker.
    """
    max_upload_size = derived["main"].get("max_upload_size", "50M")
    types = {
        t: insts
        for t, insts in derived["types"].items()
        if any(derived["addresses"][i]["http"] for i in insts)
    }
    lines = [
        "# Generated from synapse_worker_routes.ROUTES (Synapse "
        f"{ROUTES_SYNAPSE_VERSION}); unmatched paths go to the main process.",
        "upstream synapse_main {",
        _server_line(main_address),
        "}",
    ]
    for worker_type, instances in types.items():
        lines.append(f"upstream {upstream_name(worker_type)} {{")
        if worker_type in LONG_POLL_TYPES and len(instances) > 1:
            # One client's syncs on one synchrotron: its caches stay warm (docs/workers.md,
            # Load balancing). The token identifies the device; consistent hashing moves
            # few clients when a replica comes or goes.
            lines.append("        hash $http_authorization consistent;")
        for instance in instances:
            address = derived["addresses"][instance]
            lines.append(_server_line(f"{address['host']}:{address['http']}"))
        lines.append("}")
    lines += [
        "server {",
        f"    listen {listen};",
        f"    client_max_body_size {size_bytes(max_upload_size)};",
        "    proxy_http_version 1.1;",
        "    proxy_set_header Host $host;",
        "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "    proxy_set_header X-Forwarded-Proto $scheme;",
        "    # Uploads stream to Synapse instead of being written to nginx's disk first.",
        "    proxy_request_buffering off;",
    ]
    for worker_type, pattern in routes_for(types):
        lines.append(f'    location ~ "{pattern}" {{')
        if worker_type in LONG_POLL_TYPES:
            lines.append(f"        proxy_read_timeout {LONG_POLL_READ_TIMEOUT};")
        lines.append(f"        proxy_pass http://{upstream_name(worker_type)};")
        lines.append("    }")
    lines += [
        "    location / {",
        "        proxy_pass http://synapse_main;",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def compiled_routes():
    """Every pattern compiled with Python's re (nginx uses PCRE; the tests run nginx -t too)."""
    return [(route[0], re.compile(pattern)) for route in ROUTES for pattern in route[2]]


def route_of(path, types):
    """The worker type the router sends path to (first match in order), or 'main'."""
    for worker, pattern in routes_for(types):
        if re.search(pattern, path):
            return worker
    return "main"
