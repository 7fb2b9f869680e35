#!/usr/bin/env bash
# in-cluster.sh SA_DIR PROGRAM ARGS...: runs PROGRAM as if in a pod, in a mount namespace
# of its own (start.sh calls it through `unshare --mount --propagation private`).
# kube-network-policies reads its API credentials only the in-cluster way (client-go's
# rest.InClusterConfig: KUBERNETES_SERVICE_HOST/PORT and the files in
# /var/run/secrets/kubernetes.io/serviceaccount/). Those paths are made to exist in this
# namespace only, on a tmpfs over /run, pointing at SA_DIR: the host's /run is untouched
# (and hidden from PROGRAM, which needs none of it: NRI is off).
set -euo pipefail
sa_dir=$1
shift
run=$(readlink -f /var/run)
mount -t tmpfs -o mode=0755,size=1m matrixk8s-serviceaccount "$run"
mkdir -p "$run/secrets/kubernetes.io"
ln -s "$sa_dir" "$run/secrets/kubernetes.io/serviceaccount"
exec "$@"
