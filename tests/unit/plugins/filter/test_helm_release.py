"""Helm release records and chart digests: what the roles' skip-when-current check relies on."""

import base64
import gzip
import json
import shutil
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.matrixk8s.synapse.plugins.filter.helm_release import FilterModule
from ansible_collections.matrixk8s.synapse.plugins.module_utils import helm_release

FILTERS = FilterModule().filters()
CHARTS = Path(__file__).resolve().parents[4] / "charts"


def storage_secret(release, revision, *, status="deployed", config=None, compress=True, manifest=None):
    """A Secret as Helm 3 stores a revision and the Kubernetes API returns it (data base64)."""
    record = {
        "name": release,
        "version": revision,
        "info": {"status": status},
        "chart": {"metadata": {"name": "postgres", "version": "0.1.0"}},
        "config": config or {},
    }
    if manifest is not None:
        record["manifest"] = manifest
    raw = json.dumps(record).encode()
    helm_encoded = base64.b64encode(gzip.compress(raw) if compress else raw)
    return {
        "metadata": {
            "name": f"sh.helm.release.v1.{release}.v{revision}",
            "labels": {"owner": "helm", "name": release, "version": str(revision), "status": status},
        },
        "data": {"release": base64.b64encode(helm_encoded).decode()},
    }


def test_each_filter_has_the_name_of_its_function():
    assert set(FILTERS) == {"helm_release_state", "chart_digest"}
    for name, function in FILTERS.items():
        assert function.__wrapped__ is getattr(helm_release, name)


def test_no_revision_is_an_empty_state():
    assert FILTERS["helm_release_state"]([]) == {}
    assert FILTERS["helm_release_state"](None) == {}


def test_the_newest_revision_wins_whatever_the_order():
    secrets = [
        storage_secret("pg", 10, status="failed", config={"a": 10}),
        storage_secret("pg", 9, status="superseded", config={"a": 9}),
        storage_secret("pg", 2, status="superseded", config={"a": 2}),
    ]
    state = FILTERS["helm_release_state"](list(reversed(secrets)))
    # 10 > 9 > 2 as numbers (as strings "9" > "10").
    assert state == {
        "name": "pg",
        "revision": 10,
        "status": "failed",
        "chart": "postgres-0.1.0",
        "config": {"a": 10},
        "manifest": "",
    }


def test_values_come_back_as_installed():
    config = {"image": {"tag": "17"}, "persistence": {"size": "1Gi", "enabled": True}, "replicas": 1}
    assert FILTERS["helm_release_state"]([storage_secret("pg", 1, config=config)])["config"] == config


def test_the_manifest_comes_back_as_rendered():
    """install_chart compares it with the live objects: what Helm rendered, verbatim."""
    manifest = "---\n# Source: synapse/templates/service.yaml\napiVersion: v1\nkind: Service\n"
    state = FILTERS["helm_release_state"]([storage_secret("s", 2, manifest=manifest)])
    assert state["manifest"] == manifest
    assert FILTERS["helm_release_state"]([storage_secret("s", 1)])["manifest"] == ""


def test_uncompressed_records_are_read_too():
    state = FILTERS["helm_release_state"]([storage_secret("pg", 3, compress=False, config={"x": 1})])
    assert state["config"] == {"x": 1}


def test_secrets_not_owned_by_helm_are_ignored():
    other = storage_secret("pg", 7)
    other["metadata"]["labels"]["owner"] = "someone-else"
    assert FILTERS["helm_release_state"]([other]) == {}


def test_a_corrupt_record_is_an_error_naming_the_filter():
    broken = storage_secret("pg", 1)
    broken["data"]["release"] = base64.b64encode(b"not base64 at all!").decode()
    with pytest.raises(AnsibleFilterError, match="helm_release_state: not a Helm 3 release record"):
        FILTERS["helm_release_state"]([broken])


@pytest.fixture
def chart(tmp_path):
    path = tmp_path / "postgres"
    shutil.copytree(CHARTS / "postgres", path)
    return path


def test_chart_digest_is_stable(chart):
    first = helm_release.chart_digest(str(chart))
    assert first.startswith("sha256:")
    assert len(first) == 7 + 64
    assert helm_release.chart_digest(str(chart)) == first


def test_a_changed_template_changes_the_digest(chart):
    before = helm_release.chart_digest(str(chart))
    template = chart / "templates" / "service.yaml"
    template.write_text(template.read_text() + "\n# changed\n")
    assert helm_release.chart_digest(str(chart)) != before


def test_a_renamed_file_changes_the_digest(chart):
    before = helm_release.chart_digest(str(chart))
    (chart / "templates" / "service.yaml").rename(chart / "templates" / "services.yaml")
    assert helm_release.chart_digest(str(chart)) != before


def test_editor_leftovers_and_hidden_files_do_not_count(chart):
    before = helm_release.chart_digest(str(chart))
    (chart / "templates" / "service.yaml.swp").write_text("x")
    (chart / "templates" / "service.yaml~").write_text("x")
    (chart / ".git").mkdir()
    (chart / ".git" / "HEAD").write_text("x")
    assert helm_release.chart_digest(str(chart)) == before


def test_the_shared_library_is_reached_through_a_symlink(charts_copy):
    for chart in ("postgres", "synapse", "well-known"):
        link = charts_copy / chart / "charts" / "matrixk8s-lib"
        assert link.is_symlink()
        assert link.resolve() == (charts_copy / "matrixk8s-lib").resolve()


def test_a_changed_library_file_changes_every_chart_digest(charts_copy):
    charts = ("postgres", "synapse", "well-known")
    before = {c: helm_release.chart_digest(str(charts_copy / c)) for c in charts}
    labels = charts_copy / "matrixk8s-lib" / "templates" / "_labels.tpl"
    labels.write_text(labels.read_text() + "\n{{/* changed */}}\n")
    for chart in charts:
        assert helm_release.chart_digest(str(charts_copy / chart)) != before[chart], chart


def test_a_symlink_loop_is_walked_once(chart):
    before = helm_release.chart_digest(str(chart))
    (chart / "templates" / "loop").symlink_to("..", target_is_directory=True)
    after = helm_release.chart_digest(str(chart))
    assert after.startswith("sha256:")
    assert after == helm_release.chart_digest(str(chart))
    assert after == before  # the loop adds no file


def test_test_values_files_in_ci_do_not_count(chart):
    """ci/ is left out of the chart by .helmignore too: a new test case upgrades no release."""
    before = helm_release.chart_digest(str(chart))
    (chart / "ci").mkdir(exist_ok=True)
    (chart / "ci" / "new-values.yaml").write_text("persistence:\n  enabled: false\n")
    assert helm_release.chart_digest(str(chart)) == before
    (chart / "templates" / "ci").mkdir()
    (chart / "templates" / "ci" / "note.txt").write_text("x")
    assert helm_release.chart_digest(str(chart)) != before  # only the top-level ci/ is left out


def test_a_directory_without_chart_yaml_is_refused(tmp_path):
    with pytest.raises(AnsibleFilterError, match="chart_digest: .* holds no Chart.yaml"):
        FILTERS["chart_digest"](tmp_path)


def test_the_filter_gives_the_same_digest(chart):
    assert FILTERS["chart_digest"](str(chart)) == helm_release.chart_digest(str(chart))
