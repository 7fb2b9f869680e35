"""Fixtures for the Helm chart tests (tests/charts).

helm comes from $HELM or <repo>/.local/bin/helm (dev/cluster/build.sh builds it from the
Go module proxy); without it every test here is skipped with the reason.
Each (scenario, chart) pair is rendered once per session and shared by all tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import chartlib  # noqa: E402


@pytest.fixture(scope="session")
def helm() -> chartlib.Helm:
    path = chartlib.find_helm()
    if path is None:
        pytest.skip(
            "helm not found: set $HELM or run dev/cluster/build.sh to build "
            f"{chartlib.REPO / '.local/bin/helm'}"
        )
    return chartlib.Helm(path)


class RenderCache:
    def __init__(self, helm: chartlib.Helm):
        self.helm = helm
        self._docs: dict[tuple[str, str], list[dict]] = {}

    def __call__(self, scenario: str, chart: str) -> list[dict]:
        key = (scenario, chart)
        if key not in self._docs:
            self._docs[key] = chartlib.render_scenario(self.helm, scenario, chart)
        return self._docs[key]


@pytest.fixture(scope="session")
def rendered(helm) -> RenderCache:
    """rendered(scenario, chart) -> manifests, rendered once per session."""
    return RenderCache(helm)
