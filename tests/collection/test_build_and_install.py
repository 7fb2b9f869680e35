"""The collection builds, installs like a user's, and exposes its filters by FQCN."""

import json
import os
import pathlib
import subprocess
import sys
import tarfile

import pytest
import yaml

from ansible_collections.matrixk8s.synapse.plugins.module_utils.helm_release import chart_digest

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
CHARTS = ("postgres", "synapse", "well-known")


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
    assert "changelogs/changelog.yaml" in names
    assert "CHANGELOG.md" in names
    for plugin in ("lookup/signing_key.py", "test/kube.py", "test/k8s_name.yml", "plugin_utils/errors.py"):
        assert f"plugins/{plugin}" in names, plugin
    for unwanted in (
        "tests/",
        "dev/",
        "molecule/",
        ".config/",
        ".venv/",
        ".local/",
        "playbooks/collections",
        "charts/schema/",
        "changelogs/fragments",
    ):
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


def test_tarball_keeps_each_charts_library_symlink(tarball):
    """Each chart reaches the shared library chart through a relative symlink (charts/README.md):
    the tarball must carry it as a link, not as a copy or not at all."""
    with tarfile.open(tarball) as archive:
        for chart in CHARTS:
            member = archive.getmember(f"charts/{chart}/charts/matrixk8s-lib")
            assert member.issym(), chart
            assert member.linkname == "../../matrixk8s-lib"
        assert archive.getmember("charts/matrixk8s-lib/Chart.yaml").isfile()


@pytest.mark.parametrize("chart", CHARTS)
def test_installed_chart_is_the_checkout_chart(installed, chart):
    """The installed chart reaches the library, and the roles' chart_digest of it is the
    checkout's: same files through the symlink (a release installed from either is current)."""
    path = installed / "ansible_collections" / "matrixk8s" / "synapse" / "charts" / chart
    link = path / "charts" / "matrixk8s-lib"
    assert link.is_symlink()
    assert (link / "Chart.yaml").is_file()
    assert chart_digest(str(path)) == chart_digest(str(REPO / "charts" / chart))


def find_helm():
    candidate = pathlib.Path(os.environ.get("HELM") or REPO / ".local/bin/helm")
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


@pytest.mark.parametrize("chart", CHARTS)
def test_installed_chart_renders_with_helm(installed, chart):
    helm = find_helm()
    if helm is None:
        pytest.skip("helm not found: set $HELM or run dev/cluster/build.sh")
    path = installed / "ansible_collections" / "matrixk8s" / "synapse" / "charts" / chart
    result = subprocess.run(
        [helm, "template", "release", path, "--values", path / "ci" / "gke-values.yaml"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "kind: Deployment" in result.stdout or "kind: StatefulSet" in result.stdout
