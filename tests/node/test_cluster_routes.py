"""While the real node runs, this machine routes the cluster's addresses into the node's
bridge, ahead of the unreachable routes dev/cluster/routes.sh keeps for them: real traffic
flows (test_deploy.py uses it), and nothing sent to a cluster address leaves the machine.
The other half, with no node serving them (a connect fails at once with "No route to
host"), is dev/cluster/smoke.sh's check on simulated nodes.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from .nodelib import BRIDGE, route_of, served_cluster_ip

SERVICE_CIDR = "10.0.0.0/24"
POD_CIDR = "10.88.0.0/16"


def routes_for(cidr: str) -> list[dict]:
    command = ["ip", "-j", "-4", "route", "show", cidr]
    return json.loads(subprocess.run(command, capture_output=True, text=True, timeout=10, check=True).stdout)


@pytest.mark.parametrize("cidr", [SERVICE_CIDR, POD_CIDR])
def test_an_unreachable_route_guards_the_range_behind_the_bridge_route(cidr):
    routes = routes_for(cidr)
    guard = [r for r in routes if r.get("type") == "unreachable"]
    served = [r for r in routes if r.get("dev") == BRIDGE]
    assert guard, f"no unreachable route for {cidr}: {routes}"
    assert served, f"no route of {cidr} into {BRIDGE}: {routes}"
    assert served[0].get("metric", 0) < guard[0]["metric"]


def test_the_kubernetes_service_address_is_routed_into_the_bridge():
    address = served_cluster_ip("default", "kubernetes")
    assert route_of(address)["dev"] == BRIDGE
