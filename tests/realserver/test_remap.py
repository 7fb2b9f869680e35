"""The programs run what the roles rendered: only hostnames, ports and paths were moved.

The configuration each program actually read (files on disk, command lines, environment)
is diffed against the rendered one; every difference must be listed in
remap.ALLOWED_CHANGES.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.metadata
import json
import pathlib
import urllib.parse

import pytest
import yaml

from . import nginxconf, remap


@pytest.fixture(scope="module")
def as_run(synapse, nginx, postgres, admin) -> remap.Config:
    """What the running programs were given, read back from where they read it."""
    files = nginx.files
    return remap.Config(
        homeserver=yaml.safe_load(synapse.config_path.read_text()),
        synapse_command=synapse.process.argv,
        postgres_env=postgres.env,
        nginx_command=nginx.process.argv,
        nginx_conf=nginxconf.parse((files / "nginx.conf").read_text()),
        well_known={p.name: json.loads(p.read_text()) for p in sorted(files.glob("*.json"))},
        admin_command=list(admin.registration.args),
        admin_homeserver=yaml.safe_load(admin.config_path.read_text()),
    )


def test_only_allowed_keys_differ_from_the_rendered_configuration(rendered, as_run):
    changed = remap.diff(rendered.as_tree(), as_run.as_tree())
    unexpected = sorted(" / ".join(p) for p in changed if not remap.allowed(p))
    assert not unexpected, f"changed beyond hostnames, ports and paths: {unexpected}"
    # And the remap did happen where it must (or nothing would have started).
    for must in [
        ("homeserver", "database", "args", "host"),
        ("homeserver", "listeners", "0", "port"),
        ("nginx_conf", "http", "server", "listen"),
        ("postgres_env", "PGPORT"),
    ]:
        assert must in changed, must


def test_remapped_values_are_loopback_ports_and_local_paths(rendered, as_run, ports, workdir):
    changed = remap.diff(rendered.as_tree(), as_run.as_tree())
    flat = remap.flatten(as_run.as_tree())
    local_ports = {p for program in (ports.synapse, ports.postgres, ports.nginx) for p in program.values()}
    for path in changed:
        value = flat[path]
        text = str(value)
        if path[-1] in ("port", "PGPORT"):
            assert int(text) in local_ports, (path, value)
        elif path[-1] in ("listen", "bind_addresses", "host") or path[-2:-1] == ("bind_addresses",):
            assert text.startswith("127.0.0.1"), (path, value)
        elif text.startswith("http"):
            assert text.startswith("http://127.0.0.1:"), (path, value)
        elif path[:1] in (("synapse_command",), ("nginx_command",), ("admin_command",)) and path[-1] == "0":
            assert pathlib.Path(text).is_file(), (path, value)
        else:
            assert pathlib.Path(text).is_relative_to(workdir), (path, value)


def test_base_url_keeps_its_path_when_moved(rendered, as_run):
    before = urllib.parse.urlsplit(rendered.well_known["client.json"]["m.homeserver"]["base_url"])
    after = urllib.parse.urlsplit(as_run.well_known["client.json"]["m.homeserver"]["base_url"])
    assert (before.path, before.query) == (after.path, after.query)


def _set(tree, path, value):
    for key in path[:-1]:
        tree = tree[int(key)] if isinstance(tree, list) else tree[key]
    if isinstance(tree, list):
        tree[int(path[-1])] = value
    else:
        tree[path[-1]] = value


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("homeserver", "database", "args", "database"), "another"),
        (("homeserver", "database", "args", "password"), "guessed"),
        (("homeserver", "listeners", "0", "x_forwarded"), False),
        (("homeserver", "enable_registration"), True),
        (("postgres_env", "POSTGRES_INITDB_ARGS"), "--encoding=UTF8 --locale=C.UTF-8"),
        (("well_known", "server.json", "m.server"), "127.0.0.1:8448"),
        (("nginx_command", "2"), "/dev/null"),
    ],
)
def test_the_diff_catches_any_other_change(rendered, as_run, path, value):
    """The check above can fail: any change outside ALLOWED_CHANGES is reported."""
    tampered = copy.deepcopy(as_run.as_tree())
    _set(tampered, path, value)
    changed = remap.diff(rendered.as_tree(), tampered)
    assert path in changed
    assert not remap.allowed(path)


def test_the_diff_catches_a_changed_nginx_header(rendered, as_run):
    conf = copy.deepcopy(as_run.nginx_conf)
    location = nginxconf.find(conf, "http", "server", "location = /.well-known/matrix/client")
    header = next(d for d in location.block if d.name == "add_header")
    header.args = ["Access-Control-Allow-Origin", '"https://example.org"', "always"]
    tampered = dataclasses.replace(as_run, nginx_conf=conf)
    unexpected = [p for p in remap.diff(rendered.as_tree(), tampered.as_tree()) if not remap.allowed(p)]
    assert unexpected == [
        ("nginx_conf", "http", "server", "location = /.well-known/matrix/client", "add_header")
    ]


def test_synapse_is_the_version_of_the_chart_image(artifacts):
    """The venv's Synapse stands in for the image: it must be the same release."""
    tag = artifacts.synapse_image.rsplit(":", 1)[1]
    assert tag.removeprefix("v") == importlib.metadata.version("matrix-synapse")
