"""Fixtures of the federation suite (tests/federation): the verify step of Molecule scenario
federation (`make federation-test`), or run by hand with pytest once both homeservers of
molecule/federation's inventory are deployed on the real node.

Without the real node every test is skipped, or fails when MATRIXK8S_REQUIRE_NODE=1 (the
scenario sets it).
"""

from __future__ import annotations

import os

import pytest
from node.nodelib import node_is_up


@pytest.fixture(scope="session", autouse=True)
def real_node():
    if node_is_up():
        return
    message = "the real node is not up: run `make federation-test` (root; dev/node/can-run.sh says where)"
    if os.environ.get("MATRIXK8S_REQUIRE_NODE") == "1":
        pytest.fail(message)
    pytest.skip(message)
