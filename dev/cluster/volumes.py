"""The local cluster's volume pool, for callers that purge claims (tests, benchmarks).

dev/cluster/up.sh pre-creates the pool's PersistentVolumes with reclaimPolicy Retain (there
is no provisioner), so a deleted claim leaves its volume Released for good. up.sh frees them
on start; a caller that purges in between hands them back with return_released_volumes.
On the real node the volumes are directories under POOL_ROOT that pods really wrote: a volume
handed back is emptied first, as up.sh empties the free ones, so the next claim starts on a
new disk (a database initialised with an earlier password would otherwise be reused).
"""

import pathlib
import shutil
import time

POOL_SELECTOR = "matrixk8s.local/pool=true"
# up.sh's pv_root: the only place whose contents this module ever deletes.
POOL_ROOT = pathlib.Path("/var/lib/matrixk8s/pv")


def _empty(pv):
    """Delete what pods left in a pool volume's directory (nothing there on simulated nodes)."""
    path = pathlib.Path(pv.spec.host_path.path) if pv.spec.host_path else None
    if path is None or path.parent != POOL_ROOT or not path.is_dir():
        return
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


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
                _empty(pv)
                core.patch_persistent_volume(pv.metadata.name, [{"op": "remove", "path": "/spec/claimRef"}])
            else:
                waiting.append(pv.metadata.name)
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"volumes of namespace {namespace} not released after {limit}s: {waiting}")
        time.sleep(0.5)
