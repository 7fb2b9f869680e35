"""The AWX execution environment's build context, as `ansible-builder create` renders it.

Building the image needs a container registry and Ansible Galaxy, which the build machines
cannot reach; dev/ee/ee_context.sh renders the context (.local/ee/context, ignored by
git) and these tests read it: the pinned base image, the collection tarball and its install
step, the Python requirements, and helm pinned and checksum-verified. Versions in the image
must be the ones this test suite runs with, so each is compared with its source of truth.
"""

import hashlib
import importlib.metadata
import io
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
VENV_BIN = pathlib.Path(sys.executable).parent
CONTEXT = REPO / ".local" / "ee" / "context"
BUILD = CONTEXT / "_build"
SITE_COLLECTIONS = pathlib.Path(yaml.__file__).resolve().parents[1] / "ansible_collections"
FETCH_HELM = REPO / "dev" / "ee" / "fetch_helm.py"


@pytest.fixture(scope="module")
def containerfile():
    """Render the context from scratch and return the Containerfile's text."""
    result = subprocess.run(
        [REPO / "dev" / "ee" / "ee_context.sh"],
        env=dict(os.environ, VENV_BIN=str(VENV_BIN)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return (CONTEXT / "Containerfile").read_text()


@pytest.fixture(scope="module")
def definition():
    return yaml.safe_load((REPO / "awx" / "execution-environment.yml").read_text())


def stage(containerfile, name):
    """The lines of one build stage (from its FROM to the next FROM)."""
    match = re.search(rf"^FROM \S+ AS {name}$(.*?)(?=^FROM |\Z)", containerfile, re.M | re.S)
    assert match, f"no stage {name}"
    return match.group(1)


def pinned_version(path, name):
    """The version `name==X` pinned in a requirements file."""
    match = re.search(rf"^{re.escape(name)}==(\S+)", (REPO / path).read_text(), re.M)
    assert match, f"{name} is not pinned in {path}"
    return match.group(1)


def test_the_context_is_ignored_by_git(containerfile):
    result = subprocess.run(
        ["git", "check-ignore", "-q", str(CONTEXT / "Containerfile")], cwd=REPO, check=False
    )
    assert result.returncode == 0, ".local/ee must stay out of git"


def test_base_image_is_pinned_by_digest(containerfile, definition):
    image = definition["images"]["base_image"]["name"]
    assert re.fullmatch(r"registry\.access\.redhat\.com/ubi9/ubi-minimal:9\.\d+@sha256:[0-9a-f]{64}", image)
    assert f'ARG EE_BASE_IMAGE="{image}"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile


def test_ansible_core_is_the_tested_one(containerfile):
    core = pinned_version("dev/requirements/test.txt", "ansible-core")
    assert importlib.metadata.version("ansible-core") == core
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"', containerfile, re.M).group(1).split()
    assert f"ansible-core=={core}" in refs
    # AWX runs every job through ansible-runner inside the EE.
    assert any(re.fullmatch(r"ansible-runner==\d+\.\d+\.\d+", ref) for ref in refs), refs


def test_python_requirements_are_the_tested_versions(containerfile):
    wanted = {"kubernetes", "PyYAML", "cryptography", "jsonschema"}
    lines = [line for line in (BUILD / "requirements.txt").read_text().splitlines() if line.strip()]
    pins = dict(line.split("==") for line in lines)
    assert set(pins) == wanted
    for name, version in pins.items():
        assert importlib.metadata.version(name) == version, f"{name}: EE {version}, tests run another"
    assert "introspect.py introspect --user-pip=requirements.txt" in stage(containerfile, "builder")


def test_kubernetes_core_is_the_bundled_version(containerfile):
    manifest = json.loads((SITE_COLLECTIONS / "kubernetes" / "core" / "MANIFEST.json").read_text())
    requirements = yaml.safe_load((BUILD / "requirements.yml").read_text())
    assert requirements["collections"] == [
        {"name": "kubernetes.core", "version": manifest["collection_info"]["version"]}
    ]
    galaxy = stage(containerfile, "galaxy")
    assert (
        "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in galaxy
    )


def collection_tarball():
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    return BUILD / "collection" / f"matrixk8s-synapse-{version}.tar.gz", version


def test_the_collection_tarball_carries_what_a_job_runs(containerfile):
    tarball, version = collection_tarball()
    assert sorted(p.name for p in tarball.parent.iterdir()) == [tarball.name]
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
        manifest = json.loads(archive.extractfile("MANIFEST.json").read())
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == ("matrixk8s", "synapse", version)
    for needed in (
        "roles/synapse/tasks/main.yml",
        "plugins/filter/homeserver.py",
        "charts/synapse/Chart.yaml",
        "playbooks/site.yml",
        "playbooks/awx_configure.yml",
        "awx/surveys/deploy.yml",
    ):
        assert needed in names, needed
    for unwanted in ("tests/", "dev/", ".local/", ".venv/", "awx/execution-environment.yml"):
        assert not any(n.startswith(unwanted) for n in names), unwanted


def test_the_collection_is_installed_in_the_galaxy_stage(containerfile):
    galaxy = stage(containerfile, "galaxy")
    assert "COPY _build/collection/ /build/collection/" in galaxy
    assert (
        "RUN ansible-galaxy collection install --offline --collections-path /usr/share/ansible/collections "
        "/build/collection/matrixk8s-synapse-*.tar.gz"
    ) in galaxy
    # The final image takes its collections from that stage.
    assert "COPY --from=galaxy /usr/share/ansible /usr/share/ansible" in stage(containerfile, "final")


def test_the_galaxy_install_step_works(containerfile, tmp_path):
    """Run the Containerfile's own install command, with kubernetes.core already installed
    (as the stage's previous step leaves it), against a scratch collections path."""
    (line,) = [
        line for line in containerfile.splitlines() if "ansible-galaxy collection install --offline" in line
    ]
    collections = tmp_path / "collections"
    shutil.copytree(
        SITE_COLLECTIONS / "kubernetes" / "core", collections / "ansible_collections" / "kubernetes" / "core"
    )
    command = line.removeprefix("RUN ").replace("/usr/share/ansible/collections", str(collections))
    command = command.replace("/build/collection/", str(BUILD / "collection") + "/")
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(command, shell=True, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    listed = subprocess.run(
        [VENV_BIN / "ansible-galaxy", "collection", "list", "--format", "json", "-p", collections],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    installed = json.loads(listed.stdout)[str(collections / "ansible_collections")]
    _, version = collection_tarball()
    assert installed["matrixk8s.synapse"]["version"] == version
    assert (
        collections / "ansible_collections/matrixk8s/synapse/roles/synapse/meta/argument_specs.yml"
    ).is_file()


def build_args(containerfile):
    return dict(re.findall(r"^ARG (HELM_\w+)=(\S+)$", containerfile, re.M))


def test_helm_is_the_tested_release_with_pinned_checksums(containerfile):
    versions = (REPO / "dev" / "cluster" / "versions.env").read_text()
    tested = re.search(r"^HELM_VERSION=(v3\.\S+)$", versions, re.M).group(1)
    args = build_args(stage(containerfile, "builder"))
    assert args["HELM_VERSION"] == tested
    assert re.fullmatch(r"[0-9a-f]{64}", args["HELM_SHA256_AMD64"])
    assert re.fullmatch(r"[0-9a-f]{64}", args["HELM_SHA256_ARM64"])
    assert args["HELM_SHA256_AMD64"] != args["HELM_SHA256_ARM64"]


def test_helm_is_downloaded_and_verified_in_the_builder_stage(containerfile):
    builder = stage(containerfile, "builder")
    assert "COPY _build/helm/fetch_helm.py /build/fetch_helm.py" in builder
    assert (
        "RUN $PYCMD /build/fetch_helm.py --version $HELM_VERSION "
        "--sha256 amd64=$HELM_SHA256_AMD64 --sha256 arm64=$HELM_SHA256_ARM64 --dest /build/helm"
    ) in builder
    assert (BUILD / "helm" / "fetch_helm.py").read_bytes() == FETCH_HELM.read_bytes()
    final = stage(containerfile, "final")
    assert "COPY --from=builder /build/helm/helm /usr/local/bin/helm" in final
    assert "RUN helm version --short" in final


def test_the_image_tag_is_the_collection_version(definition):
    _, version = collection_tarball()
    assert definition["options"]["tags"] == [f"matrixk8s-synapse-ee:{version}"]


# fetch_helm.py itself, against a release served from a local directory (file:// URL).


def fake_release(directory, version, arch, payload=b"#!/bin/sh\necho fake helm\n"):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo(f"linux-{arch}/helm")
        info.size = len(payload)
        info.mode = 0o755
        archive.addfile(info, io.BytesIO(payload))
    data = buffer.getvalue()
    (directory / f"helm-{version}-linux-{arch}.tar.gz").write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def fetch(tmp_path, *args):
    return subprocess.run(
        [sys.executable, FETCH_HELM, "--version", "v3.0.0", "--base-url", f"file://{tmp_path}", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_fetch_helm_installs_a_release_whose_checksum_matches(tmp_path):
    digest = fake_release(tmp_path, "v3.0.0", "amd64")
    dest = tmp_path / "out"
    result = fetch(
        tmp_path,
        "--sha256",
        f"amd64={digest}",
        "--sha256",
        "arm64=" + "0" * 64,
        "--arch",
        "x86_64",
        "--dest",
        str(dest),
    )
    assert result.returncode == 0, result.stderr
    helm = dest / "helm"
    assert subprocess.run([helm], capture_output=True, text=True, check=True).stdout == "fake helm\n"


def test_fetch_helm_refuses_a_release_whose_checksum_differs(tmp_path):
    digest = fake_release(tmp_path, "v3.0.0", "arm64")
    wrong = digest[::-1]
    dest = tmp_path / "out"
    result = fetch(tmp_path, "--sha256", f"arm64={wrong}", "--arch", "aarch64", "--dest", str(dest))
    assert result.returncode == 1
    assert f"does not match the pinned {wrong}" in result.stderr
    assert not dest.exists()


def test_fetch_helm_refuses_an_architecture_without_a_pin(tmp_path):
    fake_release(tmp_path, "v3.0.0", "s390x")
    result = fetch(
        tmp_path, "--sha256", "amd64=" + "0" * 64, "--arch", "s390x", "--dest", str(tmp_path / "o")
    )
    assert result.returncode == 1
    assert "no pinned helm checksum for architecture s390x" in result.stderr
