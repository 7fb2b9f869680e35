"""Rules every chart obeys in every value set: manifests valid for Kubernetes, no Secret and
nothing secret-looking in a ConfigMap, pods fit the Pod Security "restricted" profile, names
and labels as docs/architecture.md fixes them."""

import re

import kubernetes_validate
import pytest
from chartlib import (
    CHARTS_DIR,
    KUBE_VERSION,
    RELEASES,
    REQUIRED_SET,
    pod_spec,
    pod_template_meta,
    restricted_violations,
    scenarios,
)

CASES = [pytest.param(s, c, id=f"{s}-{c}") for s, c in scenarios()]

SECRET_LOOKING = re.compile(
    r"password|passwd|secret|signing[_ .-]?key|ed25519 a_|macaroon|private[_ -]?key|BEGIN [A-Z ]*PRIVATE",
    re.IGNORECASE,
)


@pytest.mark.parametrize(("scenario", "chart"), CASES)
def test_manifests_validate_against_kubernetes_schema(rendered, scenario, chart):
    docs = rendered(scenario, chart)
    assert docs, "nothing rendered"
    for doc in docs:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            path = "/".join(str(p) for p in e.absolute_path)
            pytest.fail(f"{where} invalid at {path or '<root>'}: {e.message}")


@pytest.mark.parametrize(("scenario", "chart"), CASES)
def test_no_secret_is_rendered(rendered, scenario, chart):
    kinds = [d["kind"] for d in rendered(scenario, chart)]
    assert "Secret" not in kinds


@pytest.mark.parametrize(("scenario", "chart"), CASES)
def test_configmaps_hold_nothing_secret_looking(rendered, scenario, chart):
    # A chart's own files/ (e.g. postgres's database-roles.sh, which names the password
    # variables it reads from the environment) are copied verbatim: no value can reach them.
    static = {f.read_text() for f in (CHARTS_DIR / chart / "files").glob("*") if f.is_file()}
    for cm in (d for d in rendered(scenario, chart) if d["kind"] == "ConfigMap"):
        for key, value in (cm.get("data") or {}).items():
            for text in (key, "" if value in static else value):
                match = SECRET_LOOKING.search(text)
                assert match is None, f"ConfigMap {cm['metadata']['name']} key {key}: {match.group(0)!r}"


@pytest.mark.parametrize(("scenario", "chart"), CASES)
def test_every_pod_fits_the_restricted_profile(rendered, scenario, chart):
    workloads = [d for d in rendered(scenario, chart) if pod_spec(d) is not None]
    assert workloads, "no workload rendered"
    for doc in workloads:
        annotations = pod_template_meta(doc).get("annotations") or {}
        assert restricted_violations(pod_spec(doc), annotations) == [], doc["metadata"]["name"]


@pytest.mark.parametrize(("scenario", "chart"), CASES)
def test_images_are_pinned(rendered, scenario, chart):
    for doc in rendered(scenario, chart):
        spec = pod_spec(doc)
        for c in [*(spec or {}).get("initContainers", []), *(spec or {}).get("containers", [])]:
            image = c["image"]
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            assert tag, f"{c['name']}: image {image} has no tag"
            assert tag != "latest", f"{c['name']}: image {image} is not pinned"
            assert "bitnami" not in image.lower()


@pytest.mark.parametrize(("scenario", "chart"), CASES)
def test_names_and_labels(rendered, scenario, chart):
    release = RELEASES[chart]
    for doc in rendered(scenario, chart):
        labels = doc["metadata"].get("labels") or {}
        assert doc["metadata"]["name"].startswith(release), doc["metadata"]["name"]
        assert labels.get("app.kubernetes.io/instance") == release
        assert labels.get("app.kubernetes.io/name") == chart
        assert labels.get("app.kubernetes.io/managed-by") == "Helm"
        # The label the roles' objects carry too, and uninstall.yml -e purge=true selects on.
        assert labels.get("app.kubernetes.io/part-of") == "matrixk8s-synapse"
        for key in ("app.kubernetes.io/version", "app.kubernetes.io/component", "helm.sh/chart"):
            assert key in labels, f"{doc['kind']} lacks label {key}"
        if pod_spec(doc) is not None:
            selector = doc["spec"]["selector"]["matchLabels"]
            pod_labels = pod_template_meta(doc)["labels"]
            assert selector.items() <= pod_labels.items()


# The checker above must be able to fail: each broken pod spec below is caught.
GOOD_POD = {
    "automountServiceAccountToken": False,
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "runAsGroup": 1000,
        "fsGroup": 1000,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "containers": [
        {
            "name": "app",
            "image": "x:1",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            },
        }
    ],
    "volumes": [{"name": "tmp", "emptyDir": {}}],
}


def _broken(path, value):
    import copy

    pod = copy.deepcopy(GOOD_POD)
    target = pod
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return pod


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ("containers", 0, "securityContext", "allowPrivilegeEscalation"),
            KeyError,
            "allowPrivilegeEscalation",
        ),
        (("containers", 0, "securityContext", "capabilities"), {"drop": ["NET_RAW"]}, "drop ALL"),
        (
            ("containers", 0, "securityContext", "capabilities"),
            {"drop": ["ALL"], "add": ["SYS_ADMIN"]},
            "add",
        ),
        (("containers", 0, "securityContext", "readOnlyRootFilesystem"), False, "readOnlyRootFilesystem"),
        (("containers", 0, "securityContext", "privileged"), True, "privileged"),
        (("securityContext", "runAsNonRoot"), KeyError, "runAsNonRoot"),
        (("securityContext", "runAsUser"), 0, "runAsUser 0"),
        (("securityContext", "fsGroup"), KeyError, "fsGroup"),
        (("securityContext", "seccompProfile"), {"type": "Unconfined"}, "seccompProfile"),
        (("securityContext", "seccompProfile"), KeyError, "seccompProfile"),
        (("volumes", 0), {"name": "host", "hostPath": {"path": "/"}}, "hostPath"),
        (("hostNetwork",), True, "hostNetwork"),
        (("automountServiceAccountToken",), KeyError, "automountServiceAccountToken"),
    ],
)
def test_restricted_checker_catches(path, value, expected):
    assert restricted_violations(GOOD_POD) == []
    problems = restricted_violations(_broken(path, value))
    assert any(expected in p for p in problems), problems


DIGEST = "matrixk8s.synapse/chart-digest"


@pytest.mark.parametrize("chart", sorted(RELEASES))
def test_chart_digest_annotates_the_workload_not_its_pods(helm, chart):
    """chartDigest (set by the roles) marks the Deployment or StatefulSet; on the pod template
    it would restart pods for every chart change. Empty (plain helm), it renders nothing."""
    digest = "sha256:" + "ab" * 32
    with_digest = helm.render(chart, set_values=[*REQUIRED_SET[chart], f"chartDigest={digest}"])
    without = helm.render(chart, set_values=REQUIRED_SET[chart])
    annotated = [d for d in with_digest if (d["metadata"].get("annotations") or {}).get(DIGEST) == digest]
    assert [d["kind"] for d in annotated] == ["StatefulSet" if chart == "postgres" else "Deployment"]
    assert DIGEST not in str(pod_template_meta(annotated[0]))
    assert DIGEST not in str(without)
