"""docs/requirements.yml, the file users copy into their projects, asks Galaxy for this
collection and for exactly the dependencies galaxy.yml declares."""

import pathlib

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_requirements_example_matches_galaxy_yml():
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    wanted = yaml.safe_load((REPO / "docs" / "requirements.yml").read_text())["collections"]
    by_name = {entry["name"]: entry.get("version") for entry in wanted}
    assert by_name.pop(f"{galaxy['namespace']}.{galaxy['name']}") is None
    assert by_name == galaxy["dependencies"]
