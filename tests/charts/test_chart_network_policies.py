"""Every chart's NetworkPolicies (charts/matrixk8s-lib _network.tpl, issue 12): ingress to the
release's pods is denied but for the workload's own ports; Synapse and .well-known take those
from anywhere, PostgreSQL only from the Synapse pods (test_chart_postgres.py). Egress is not
restricted (charts/README.md says why)."""

import pytest
from chartlib import CHARTS, REQUIRED_SET, container, find, one, pod_spec

SCENARIOS = ["default", "gke", "kind"]
WORKLOADS = {"postgres": "StatefulSet", "synapse": "Deployment", "well-known": "Deployment"}
RELEASES = {"postgres": "synapse-postgres", "synapse": "synapse", "well-known": "well-known"}
# Ports open from anywhere (the named container ports); PostgreSQL's has a from clause.
OPEN_PORTS = {"synapse": ["http", "health"], "well-known": ["http"]}
MAIN_CONTAINER = {"synapse": "synapse", "well-known": "nginx"}


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("chart", CHARTS)
def test_each_release_has_a_deny_and_an_allow_policy(rendered, chart, scenario):
    docs = rendered(scenario, chart)
    release = RELEASES[chart]
    policies = {p["metadata"]["name"]: p for p in find(docs, "NetworkPolicy")}
    assert sorted(policies) == [f"{release}-allow-ingress", f"{release}-deny-ingress"]
    deny = policies[f"{release}-deny-ingress"]["spec"]
    assert deny == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/instance": release}},
        "policyTypes": ["Ingress"],
    }
    workload = one(docs, WORKLOADS[chart], release)
    allow = policies[f"{release}-allow-ingress"]["spec"]
    assert allow["podSelector"]["matchLabels"] == workload["spec"]["selector"]["matchLabels"]
    assert allow["policyTypes"] == ["Ingress"], "egress stays open"
    # Every port the policy opens is a port of the workload's main container.
    ports = {p["name"] for c in pod_spec(workload)["containers"] for p in c.get("ports", [])}
    opened = [p["port"] for rule in allow["ingress"] for p in rule["ports"]]
    assert set(opened) <= ports, opened
    for policy in policies.values():
        assert policy["metadata"]["labels"]["app.kubernetes.io/part-of"] == "matrixk8s-synapse"


@pytest.mark.parametrize("chart", sorted(OPEN_PORTS))
def test_synapse_and_well_known_are_open_on_their_ports_only(rendered, chart):
    docs = rendered("default", chart)
    allow = one(docs, "NetworkPolicy", f"{RELEASES[chart]}-allow-ingress")["spec"]
    assert allow["ingress"] == [{"ports": [{"port": p, "protocol": "TCP"} for p in OPEN_PORTS[chart]]}]
    # Named ports: they follow the container ports wherever the values put them.
    main = container(pod_spec(one(docs, WORKLOADS[chart], RELEASES[chart])), MAIN_CONTAINER[chart])
    assert set(OPEN_PORTS[chart]) <= {p["name"] for p in main["ports"]}


@pytest.mark.parametrize("chart", CHARTS)
def test_network_policies_can_be_disabled(helm, chart):
    docs = helm.render(chart, set_values=[*REQUIRED_SET[chart], "networkPolicy.enabled=false"])
    assert find(docs, "NetworkPolicy") == []
