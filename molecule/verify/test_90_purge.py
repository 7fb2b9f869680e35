"""Last: uninstall.yml -e purge=true leaves nothing of ours in the namespace.

"Ours" is every object the roles or the charts made. The namespace may hold what
Kubernetes itself puts in every namespace: the `default` ServiceAccount and the
`kube-root-ca.crt` ConfigMap. molecule destroy then deletes the cluster.
"""

import time

import verifylib

KUBERNETES_OWN = {("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")}


def _namespace_contents(kube):
    from kubernetes import client

    ns = verifylib.NAMESPACE
    core = client.CoreV1Api(kube)
    apps = client.AppsV1Api(kube)
    batch = client.BatchV1Api(kube)
    net = client.NetworkingV1Api(kube)
    listings = {
        "Secret": core.list_namespaced_secret,
        "ConfigMap": core.list_namespaced_config_map,
        "Service": core.list_namespaced_service,
        "PersistentVolumeClaim": core.list_namespaced_persistent_volume_claim,
        "Pod": core.list_namespaced_pod,
        "ServiceAccount": core.list_namespaced_service_account,
        "Deployment": apps.list_namespaced_deployment,
        "StatefulSet": apps.list_namespaced_stateful_set,
        "ReplicaSet": apps.list_namespaced_replica_set,
        "Job": batch.list_namespaced_job,
        "Ingress": net.list_namespaced_ingress,
    }
    found = set()
    for kind, listing in listings.items():
        found |= {(kind, item.metadata.name) for item in listing(ns).items}
    return found - KUBERNETES_OWN


def test_purge_leaves_nothing_of_ours_in_the_namespace(converge, kube, core):
    assert verifylib.helm_releases(core), "nothing deployed: the purge would prove nothing"
    run = converge("uninstall.yml", args=["-e", "purge=true"])
    assert run.returncode == 0, run.describe()
    # Pods and ReplicaSets go by garbage collection after their owners: give it a moment.
    deadline = time.monotonic() + 60
    while (left := _namespace_contents(kube)) and time.monotonic() < deadline:
        time.sleep(1)
    assert not left, sorted(left)
