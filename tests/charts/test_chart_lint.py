"""`helm lint --strict` on every chart: with its required values, with each of its ci/ values
files, and with all of them at once; the shared library chart on its own."""

import pytest
from chartlib import CHARTS, CHARTS_DIR, KUBE_VERSION, LIBRARY, REQUIRED_SET, scenario_values, scenarios

CI_CASES = [pytest.param(s, c, id=f"{s}-{c}") for s, c in scenarios() if s != "default"]


def lint(helm, chart, values_files=()):
    args = ["lint", "--strict", str(CHARTS_DIR / chart), "--kube-version", f"{KUBE_VERSION}.0"]
    for s in REQUIRED_SET.get(chart, []):
        args += ["--set", s]
    for f in values_files:
        args += ["--values", str(f)]
    result = helm.run(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("chart", CHARTS)
def test_lint_strict(helm, chart):
    lint(helm, chart, [scenario_values(s, c) for s, c in scenarios() if c == chart and s != "default"])


@pytest.mark.parametrize(("scenario", "chart"), CI_CASES)
def test_lint_strict_with_each_ci_values_file(helm, scenario, chart):
    lint(helm, chart, [scenario_values(scenario, chart)])


def test_lint_strict_library(helm):
    lint(helm, LIBRARY)
