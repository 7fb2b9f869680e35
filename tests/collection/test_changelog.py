"""The collection's version and its release notes agree, and the next release's notes are valid.

galaxy.yml's version is the latest release in changelogs/changelog.yaml (it moves only when
a release is cut: docs/testing.md "Releasing"); every fragment under changelogs/fragments/
passes antsibull-changelog's lint, so `antsibull-changelog release` will not stop on one;
and CHANGELOG.md is what antsibull-changelog generates from changelog.yaml, never edited by
hand.
"""

import pathlib
import subprocess
import sys

import yaml
from packaging.version import Version

REPO = pathlib.Path(__file__).resolve().parents[2]
ANTSIBULL_CHANGELOG = str(pathlib.Path(sys.executable).parent / "antsibull-changelog")
FRAGMENTS = REPO / "changelogs" / "fragments"


def _changelog(*args):
    return subprocess.run(
        [ANTSIBULL_CHANGELOG, *args], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def test_galaxy_version_is_the_latest_release():
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    releases = yaml.safe_load((REPO / "changelogs" / "changelog.yaml").read_text())["releases"]
    latest = max(releases, key=Version)
    assert galaxy["version"] == latest, (
        f"galaxy.yml says {galaxy['version']}, changelogs/changelog.yaml's latest release is "
        f"{latest}: cut releases with docs/testing.md 'Releasing'"
    )


def test_fragments_pass_antsibull_changelog_lint():
    result = _changelog("lint")
    assert (result.returncode, result.stdout.strip()) == (0, ""), result.stderr


def test_every_fragment_is_a_yaml_file():
    """antsibull-changelog silently skips a fragment whose name does not end in .yml or .yaml
    (ignore_other_fragment_extensions): its note would be lost from the release."""
    skipped = [p.name for p in FRAGMENTS.iterdir() if p.name != ".keep" and p.suffix not in (".yml", ".yaml")]
    assert not skipped, f"changelogs/fragments/: rename to .yml: {skipped}"


def test_changelog_yaml_passes_lint():
    result = _changelog("lint-changelog-yaml", "changelogs/changelog.yaml")
    assert (result.returncode, result.stdout.strip()) == (0, ""), result.stderr


def test_changelog_md_is_generated(tmp_path):
    out = tmp_path / "CHANGELOG.md"
    result = _changelog("generate", "--output", str(out), "--output-format", "md")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (REPO / "CHANGELOG.md").read_text() == out.read_text(), (
        "CHANGELOG.md differs from what `antsibull-changelog generate` writes from "
        "changelogs/changelog.yaml: edit the fragments or changelog.yaml, then generate"
    )
