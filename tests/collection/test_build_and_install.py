"""The collection builds, installs like a user's, and exposes its filters by FQCN."""

import json
import os
import pathlib
import subprocess
import sys
import tarfile

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    subprocess.run(
        [BIN / "ansible-galaxy", "collection", "build", "--output-path", out, REPO],
        check=True,
        capture_output=True,
        cwd=REPO,
    )
    (built,) = out.glob("matrixk8s-synapse-*.tar.gz")
    return built


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory):
    """Install the tarball into an empty path (Galaxy is unreachable: no dependency fetch)."""
    path = tmp_path_factory.mktemp("collections")
    subprocess.run(
        [BIN / "ansible-galaxy", "collection", "install", "--no-deps", "-p", path, tarball],
        check=True,
        capture_output=True,
    )
    return path


def test_tarball_ships_what_users_run_and_nothing_else(tarball):
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    manifest = json.loads(archive_member(tarball, "MANIFEST.json"))
    assert manifest["collection_info"]["namespace"] == "matrixk8s"
    assert manifest["collection_info"]["dependencies"] == {"kubernetes.core": ">=6.0.0"}
    assert "plugins/filter/homeserver.py" in names
    assert "plugins/module_utils/synapse_options.py" in names
    for plugin in ("lookup/signing_key.py", "test/kube.py", "test/k8s_name.yml", "plugin_utils/errors.py"):
        assert f"plugins/{plugin}" in names, plugin
    for unwanted in ("tests/", "tools/", ".venv/", ".local/", "playbooks/collections"):
        assert not any(name.startswith(unwanted) for name in names), unwanted


def archive_member(tarball, name):
    with tarfile.open(tarball) as archive:
        return archive.extractfile(name).read()


def test_installed_collection_filters_work_by_fqcn(installed, tmp_path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(installed), ANSIBLE_STDOUT_CALLBACK="json")
    # Run from a directory outside the repository so only the installed copy can be found.
    result = subprocess.run(
        [BIN / "ansible-playbook", "-i", "localhost,", REPO / "tests" / "collection" / "fqcn_filters.yml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    stats = report["stats"]["localhost"]
    assert stats["failures"] == 0
    assert stats["ok"] == 6
    assert stats["ignored"] == 1  # the typo task, refused as it should be
    tasks = {task["task"]["name"]: task["hosts"]["localhost"] for task in report["plays"][0]["tasks"]}
    merged = yaml.safe_load(tasks["Print the merged config as YAML for the test to read"]["msg"])
    assert merged == {
        "server_name": "example.com",
        "email": {"smtp_host": "localhost", "smtp_port": 587},
        "enable_registration": False,
    }
    # The private key is generated under no_log: it must not appear anywhere in the output.
    assert "censored" in json.dumps(tasks["Generate two signing keys, each once"])
