"""The local cluster's volume pool, for callers that purge claims (tests, benchmarks).

dev/cluster/up.sh pre-creates the pool's PersistentVolumes with reclaimPolicy Retain (there
is no provisioner), so a deleted claim leaves its volume Released for good. up.sh frees them
on start; a caller that purges in between hands them back with return_released_volumes.
"""

import time

POOL_SELECTOR = "matrixk8s.local/pool=true"


def return_released_volumes(core, namespace="matrix", limit=120):
    """Free the pool volumes that purged claims of `namespace` held; wait for them to be Released."""
    deadline = time.monotonic() + limit
    while True:
        claims = {c.metadata.name for c in core.list_namespaced_persistent_volume_claim(namespace).items}
        waiting = []
        for pv in core.list_persistent_volume(label_selector=POOL_SELECTOR).items:
            ref = pv.spec.claim_ref
            if not ref or ref.namespace != namespace or ref.name in claims:
                continue
            if pv.status.phase == "Released":
                core.patch_persistent_volume(pv.metadata.name, [{"op": "remove", "path": "/spec/claimRef"}])
            else:
                waiting.append(pv.metadata.name)
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"volumes of namespace {namespace} not released after {limit}s: {waiting}")
        time.sleep(0.5)
