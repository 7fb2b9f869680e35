"""The front door stays small and every signpost leads somewhere.

README.md is the collection's readme on Galaxy and the first page a visitor reads: at most
about 100 lines, with the details in docs/ and dev/README.md. A relative link in any of these
pages that points at nothing would end the newcomer's tour there.
"""

import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
PAGES = ["README.md", "docs/architecture.md", "docs/awx.md", "docs/testing.md", "dev/README.md"]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_readme_is_a_front_door():
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 100, len(lines)
    for page in ("docs/architecture.md", "docs/awx.md", "docs/testing.md", "dev/README.md"):
        assert f"({page})" in "\n".join(lines), f"README.md does not point at {page}"


@pytest.mark.parametrize("page", PAGES)
def test_relative_links_resolve(page):
    path = REPO / page
    targets = [t for t in LINK.findall(path.read_text()) if not re.match(r"[a-z]+:", t)]
    missing = [t for t in targets if not (path.parent / t).exists()]
    assert not missing, missing
