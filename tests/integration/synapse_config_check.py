"""Run Synapse's own configuration check on a homeserver.yaml, the way the chart would load it."""

import pathlib
import subprocess
import sys

import yaml


def check(config: dict, directory: pathlib.Path) -> subprocess.CompletedProcess:
    """Write config to directory/homeserver.yaml and run `python -m synapse.config -c` on it."""
    path = directory / "homeserver.yaml"
    path.write_text(yaml.safe_dump(config))
    return subprocess.run(
        [sys.executable, "-m", "synapse.config", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
