"""`helm lint --strict` on every chart, with its required values and with every value set."""

import pytest
from chartlib import CHARTS, CHARTS_DIR, KUBE_VERSION, REQUIRED_SET, scenario_values, scenarios


@pytest.mark.parametrize("chart", CHARTS)
def test_lint_strict(helm, chart):
    args = ["lint", "--strict", str(CHARTS_DIR / chart), "--kube-version", f"{KUBE_VERSION}.0"]
    for s in REQUIRED_SET[chart]:
        args += ["--set", s]
    for scenario, c in scenarios():
        if c == chart and scenario != "default":
            args += ["--values", str(scenario_values(scenario, chart))]
    result = helm.run(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout
