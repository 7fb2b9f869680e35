"""The converged deployment, as the API shows it: releases, readiness, and the order of events."""

import verifylib


def test_control_node_has_the_kubeconfig_and_helm_3(host):
    """The control node (testinfra's local:// host) holds what the converge used."""
    assert host.file(verifylib.KUBECONFIG).is_file
    helm = verifylib.group_vars().get("matrix_helm_binary")
    # The local inventory points at .local/bin/helm (relative to playbooks/); kind uses PATH.
    helm = str(verifylib.REPO / ".local" / "bin" / "helm") if helm else "helm"
    version = host.run(f"{helm} version --short")
    assert version.rc == 0, version.stderr
    assert version.stdout.startswith("v3."), version.stdout


def test_every_release_is_deployed(core):
    releases = verifylib.helm_releases(core)
    assert set(verifylib.RELEASES) <= set(releases), releases
    assert {name: releases[name][1] for name in verifylib.RELEASES} == dict.fromkeys(
        verifylib.RELEASES, "deployed"
    )


def test_synapse_deployment_is_available(apps):
    deploy = apps.read_namespaced_deployment("synapse", verifylib.NAMESPACE)
    conditions = {c.type: c.status for c in deploy.status.conditions}
    assert conditions.get("Available") == "True", conditions
    assert deploy.status.observed_generation == deploy.metadata.generation
    assert deploy.status.ready_replicas == deploy.spec.replicas
    assert deploy.status.updated_replicas == deploy.spec.replicas


def test_postgres_was_ready_before_synapse_was_created(core, apps):
    """The postgres pod turned Ready no later than the Synapse Deployment came into being."""
    statefulset = apps.read_namespaced_stateful_set("synapse-postgres", verifylib.NAMESPACE)
    assert statefulset.status.ready_replicas == statefulset.spec.replicas
    ready = verifylib.postgres_ready_since(core)
    created = apps.read_namespaced_deployment("synapse", verifylib.NAMESPACE).metadata.creation_timestamp
    assert ready <= created, f"postgres Ready at {ready}, Synapse Deployment created at {created}"
