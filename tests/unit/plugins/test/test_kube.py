"""The Jinja tests of plugins/test/kube.py: their names, their laws, and Ansible evaluating them."""

import math
import re

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.matrixk8s.synapse.plugins.module_utils import kube
from ansible_collections.matrixk8s.synapse.plugins.test import kube as jinja_tests

# Through the module: pytest would collect a TestModule imported here as a test class.
TESTS = jinja_tests.TestModule().tests()
k8s_name, k8s_subdomain = TESTS["k8s_name"], TESTS["k8s_subdomain"]
k8s_quantity, go_duration = TESTS["k8s_quantity"], TESTS["go_duration"]

# Text near the grammar's edges: its own characters, the ones it refuses, and newlines.
NEAR = st.text(alphabet="az09-.\n _A", max_size=80)
LABELS = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)
DURATION_PARTS = st.tuples(
    st.integers(0, 10_000), st.one_of(st.none(), st.integers(0, 999)), st.sampled_from(["h", "m", "s", "ms"])
)
DURATIONS = st.lists(DURATION_PARTS, min_size=1, max_size=4).map(
    lambda parts: "".join(f"{n}{'' if f is None else f'.{f}'}{u}" for n, f, u in parts)
)
# No deadline: these are laws, not timings, and the test machines are busy.
LAW = settings(max_examples=300, deadline=None)


def test_each_test_has_the_name_of_its_function():
    assert set(TESTS) == {
        "k8s_name",
        "k8s_subdomain",
        "k8s_quantity",
        "go_duration",
        "image_repository",
        "image_tag",
    }
    for name, function in TESTS.items():
        assert function.__wrapped__ is getattr(kube, name)


def _is_label(text, bounded=True):
    """A DNS label, spelled out without a regex."""
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-")
    return (
        0 < len(text) <= (63 if bounded else len(text))
        and set(text) <= allowed
        and not text.startswith("-")
        and not text.endswith("-")
    )


@LAW
@given(NEAR | LABELS)
def test_k8s_name_is_exactly_a_dns_label(text):
    assert k8s_name(text) == _is_label(text)
    if k8s_name(text):
        assert len(text) <= 63
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", text)


@LAW
@given(NEAR | st.lists(LABELS, min_size=1, max_size=6).map(".".join))
def test_k8s_subdomain_is_dot_separated_labels_of_at_most_253(text):
    expected = len(text) <= 253 and all(_is_label(part, bounded=False) for part in text.split("."))
    assert k8s_subdomain(text) == expected


@LAW
@given(NEAR | LABELS)
def test_every_k8s_name_is_a_k8s_subdomain(text):
    if k8s_name(text):
        assert k8s_subdomain(text)


@LAW
@given(st.text(max_size=40) | LABELS | DURATIONS)
def test_a_trailing_newline_is_never_accepted(text):
    for check in TESTS.values():
        assert not check(text + "\n")


@LAW
@given(
    st.integers(0, 10**12),
    st.one_of(st.none(), st.integers(0, 999)),
    st.sampled_from(["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P", "E"]),
)
def test_every_decimal_with_a_known_suffix_is_a_quantity(number, fraction, suffix):
    text = f"{number}{'' if fraction is None else f'.{fraction}'}{suffix}"
    assert k8s_quantity(text)
    assert not k8s_quantity(text + "B")


@LAW
@given(DURATIONS)
def test_every_go_duration_converts_to_at_least_one_second(text):
    assert go_duration(text)
    seconds = kube.duration_seconds(text)
    assert seconds >= 1
    assert seconds == max(1, math.ceil(_seconds_spelled_out(text)))


@LAW
@given(DURATIONS, DURATIONS)
def test_durations_concatenate(first, second):
    assert go_duration(first + second)
    seconds = kube.duration_seconds
    assert seconds(first + second) <= seconds(first) + seconds(second)


@LAW
@given(st.text(alphabet="0123456789.hms \n", max_size=12))
def test_go_duration_is_what_duration_seconds_takes_as_written(text):
    try:
        kube.duration_seconds(text)
        converts = True
    except kube.KubeError:
        converts = False
    assert go_duration(text) == (converts and text == text.strip())


def _seconds_spelled_out(text):
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * units[u] for n, u in re.findall(r"([0-9.]+)(ms|h|m|s)", text))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("{{ 'matrix' is matrixk8s.synapse.k8s_name }}", True),
        ("{{ 'Matrix' is matrixk8s.synapse.k8s_name }}", False),
        ("{{ 'synapse.signing-key' is matrixk8s.synapse.k8s_subdomain }}", True),
        ("{{ '10Gi' is matrixk8s.synapse.k8s_quantity }}", True),
        ("{{ 10 is matrixk8s.synapse.k8s_quantity }}", False),
        ("{{ '1m30s' is matrixk8s.synapse.go_duration }}", True),
        ("{{ '1m30s' is not matrixk8s.synapse.go_duration }}", False),
    ],
)
def test_ansible_evaluates_the_tests_by_fqcn(expression, expected):
    # Ansible's own templating, which finds the tests through the collection loader.
    assert Templar(loader=DataLoader()).template(trust_as_template(expression)) is expected


# --- image references (issue 12: tags with spaces passed role and chart) ---------------------

GOOD_REPOSITORIES = [
    "postgres",
    "docker.io/library/postgres",
    "docker.io/matrixdotorg/synapse",
    "localhost:5000/a/b",
    "Registry.Example.com:443/team/app",
    "ghcr.io/element-hq/synapse",
    "a/b__c/d--e/f.g",
]
BAD_REPOSITORIES = [
    "",
    "docker.io/Library/postgres",
    "docker.io/nginxinc/nginx unprivileged",
    "docker.io/matrixdotorg/synapse:latest",
    "docker.io/matrixdotorg/synapse@sha256:" + "0" * 64,
    "docker.io/library/postgres\n",
    "/postgres",
    "postgres/",
    "a//b",
    "a/-b",
    "a/b.",
    "a/" + "b" * 254,
    None,
    5,
]
GOOD_TAGS = ["17", 17, "v1.163.2", "1.29.5-alpine", "_x", "a" * 128, "latest"]
BAD_TAGS = [
    "",
    "v1.163.2 latest",
    "-alpine",
    ".hidden",
    "a" * 129,
    "v1@sha256:00",
    "v1\n",
    "é",
    True,
    None,
    1.5,
]


IMAGE_CASES = [
    *(("image_repository", value, True) for value in GOOD_REPOSITORIES),
    *(("image_repository", value, False) for value in BAD_REPOSITORIES),
    *(("image_tag", value, True) for value in GOOD_TAGS),
    *(("image_tag", value, False) for value in BAD_TAGS),
]


@pytest.mark.parametrize(("test", "value", "expected"), IMAGE_CASES, ids=repr)
def test_image_references_hold_only_what_a_reference_can(test, value, expected):
    assert TESTS[test](value) is expected


def test_image_schema_patterns_agree_with_the_tests():
    """charts/schema/definitions/image.json holds the same grammar (Helm's regular expressions
    and Python's agree on these patterns)."""
    import json
    import pathlib

    definition = json.loads(
        (pathlib.Path(kube.__file__).parents[2] / "charts/schema/definitions/image.json").read_text()
    )["properties"]
    repository, tag = definition["repository"], definition["tag"]
    # Go's "$" ends the text; Python's also matches before a final newline.
    repository_pattern = repository["pattern"].replace("$", r"\Z")
    tag_pattern = tag["pattern"].replace("$", r"\Z")
    for value in GOOD_REPOSITORIES + BAD_REPOSITORIES:
        if isinstance(value, str):
            by_schema = (
                len(value) <= repository["maxLength"] and re.search(repository_pattern, value) is not None
            )
            assert by_schema == kube.image_repository(value), value
    for value in GOOD_TAGS + BAD_TAGS:
        if isinstance(value, str):
            assert (re.search(tag_pattern, value) is not None) == kube.image_tag(value), value
