"""Fixtures of the real-node suite (tests/node): the verify step of Molecule scenario node
(`make node-test`), or run by hand with pytest once the node is up.

The suite needs the real node (MATRIXK8S_REAL_NODE=1 dev/cluster/up.sh): without it
every test is skipped, or fails when MATRIXK8S_REQUIRE_NODE=1 (the scenario sets it).
"""

from __future__ import annotations

import os

import pytest

from .nodelib import node_is_up


@pytest.fixture(scope="session", autouse=True)
def real_node():
    if node_is_up():
        return
    message = "the real node is not up: run MATRIXK8S_REAL_NODE=1 dev/cluster/up.sh"
    if os.environ.get("MATRIXK8S_REQUIRE_NODE") == "1":
        pytest.fail(message)
    pytest.skip(message)
