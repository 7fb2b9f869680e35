#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Deletes the local cluster (its processes, etcd data, pki and logs under .local/kwok/),
# its kubeconfig, and the routes that keep its addresses on this machine (routes.sh,
# unless another checkout's cluster still runs). Idempotent: with no cluster it says so
# and exits 0.
# The built binaries stay in the cache (build.sh), so the next up.sh is fast.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# A real node (dev/node) would go on running against a deleted API server: stop it first,
# while the API can still drop its Node object.
if compgen -G "$repo/.local/node/run/*.pid" >/dev/null; then
  "$repo/dev/node/down.sh"
fi

if [[ -x "$bin/kwokctl" ]] && cluster_exists; then
  log "deleting cluster $cluster_name"
  kwokctl_ delete cluster --name "$cluster_name" --kubeconfig "$kubeconfig" ||
    die "kwokctl delete cluster failed (output above); its state is in $KWOK_WORKDIR/clusters/$cluster_name"
else
  log "no cluster $cluster_name in $KWOK_WORKDIR; nothing to delete"
fi
# kwokctl removes only its own context; the file is ours and holds nothing else.
rm -f "$kubeconfig"
# Last: the routes keep ClusterIPs on the machine until nothing can use them.
"$here/routes.sh" remove
