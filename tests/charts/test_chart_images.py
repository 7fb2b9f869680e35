"""Helm refuses image references that cannot hold the image (issue 12: a tag with spaces
passed role and chart). The roles refuse the same (plugins/test image_repository and
image_tag; tests/playbooks/test_preflight.py), with the same grammar
(tests/unit/plugins/test/test_kube.py compares the patterns)."""

import pytest
from chartlib import CHARTS, REQUIRED_SET

BAD = [
    ("image.tag", "v1.163.2 latest"),
    ("image.tag", "-alpine"),
    ("image.tag", "v1@sha256:00"),
    ("image.repository", "docker.io/Library/postgres"),
    ("image.repository", "docker.io/nginxinc/nginx unprivileged"),
    ("image.repository", "docker.io/matrixdotorg/synapse:latest"),
]


@pytest.mark.parametrize("chart", CHARTS)
@pytest.mark.parametrize(("key", "value"), BAD)
def test_helm_refuses_an_image_reference_that_cannot_hold_it(helm, chart, key, value):
    result = helm.template(chart, set_values=REQUIRED_SET[chart], set_json=[f'{key}="{value}"'])
    assert result.returncode != 0, result.stdout[:300]
    assert f"/{key.replace('.', '/')}" in result.stderr


@pytest.mark.parametrize("chart", CHARTS)
def test_an_integer_tag_is_still_taken(helm, chart):
    result = helm.template(chart, set_values=REQUIRED_SET[chart], set_json=["image.tag=17"])
    assert result.returncode == 0, result.stderr
