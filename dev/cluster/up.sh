#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Starts the project's local Kubernetes control plane, or confirms it is up:
# kwokctl's "binary" runtime runs etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler and kwok-controller as local processes from the binaries build.sh made,
# with simulated nodes (pods become Running/Ready, no container runs). Then it makes sure
# the objects the project's tests expect exist: 2 nodes, StorageClasses `standard`
# (default) and `local-path` with pre-created PersistentVolumes (nothing provisions
# volumes here), and namespace `matrix` under Pod Security `restricted`.
#
# Idempotent: on a healthy cluster it only re-applies those objects (about 2 seconds).
# Every wait is bounded; on failure it says what is missing and what to run.
# Kubeconfig: <repo>/.local/kubeconfig, context kwok-matrixk8s.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

nodes=${MATRIXK8S_NODES:-2}
pvs_per_class=${MATRIXK8S_PVS_PER_CLASS:-6}
# MATRIXK8S_REAL_NODE=1: one real node (dev/node/up.sh) instead of the simulated ones,
# so containers really run. The default stays simulated: no root, no images, seconds.
real_node=${MATRIXK8S_REAL_NODE:-0}
if [[ $real_node == 1 ]]; then nodes=0; fi
pv_root=/var/lib/matrixk8s/pv

"$here/build.sh"   # warm: a fraction of a second; cold: builds everything first
for b in kwokctl kwok etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  [[ -x "$bin/$b" ]] || die "$bin/$b is missing; run dev/cluster/build.sh and read its errors"
done

# kwokctl reads these before its flags: point every download location it could fall back
# to at a path that does not exist, so a missing local binary fails at once, locally,
# instead of waiting on a release site this machine cannot reach.
no_download="/nonexistent/matrixk8s-kwokctl-must-not-download"
export KWOK_KUBE_BINARY_PREFIX="$no_download" KWOK_BINARY_PREFIX="$no_download" \
  KWOK_ETCD_BINARY_PREFIX="$no_download" KWOK_KUBE_VERSION="$KUBERNETES_VERSION"

# Options that have no command-line flag. bindAddress: serve on loopback only.
# kubectl serves `kwokctl kubectl`/`kwokctl port-forward`. etcdctl/etcdutl/kectl are used
# only by `kwokctl etcdctl|snapshot|kectl`; without a value kwokctl names release
# downloads for them, so they point at the no-download path too (those commands fail).
mkdir -p "$KWOK_WORKDIR"
kwokctl_config="$KWOK_WORKDIR/kwokctl.yaml"
cat >"$kwokctl_config" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  bindAddress: 127.0.0.1
  kubectlBinary: $bin/kubectl
  etcdctlBinary: $no_download/etcdctl
  etcdutlBinary: $no_download/etcdutl
  kectlBinary: $no_download/kectl
# kwokctl starts kwok-controller with --manage-all-nodes=true: it would also play the
# kubelet for the real node (MATRIXK8S_REAL_NODE=1), fighting the real kubelet over its
# status and pods. It manages only the nodes annotated as simulated (ours are, below).
componentsPatches:
  # The API server reaches a kubelet (logs, exec, port-forward) at the node's address;
  # its default tries the node's host name first, which nothing resolves here.
  # The real node's kubelet (dev/node) authenticates every caller and asks the API server
  # whether it may (webhook); the API server presents kwokctl's admin certificate, its
  # only client certificate, which the kubelet checks against the cluster CA.
  # The Service range is kube-apiserver's default, stated so routes.sh and it agree.
  - name: kube-apiserver
    extraArgs:
      - {key: kubelet-preferred-address-types, value: "InternalIP,Hostname"}
      - {key: kubelet-client-certificate, value: "$KWOK_WORKDIR/clusters/$cluster_name/pki/admin.crt"}
      - {key: kubelet-client-key, value: "$KWOK_WORKDIR/clusters/$cluster_name/pki/admin.key"}
      - {key: service-cluster-ip-range, value: "$service_cidr"}
  - name: kwok-controller
    extraArgs:
      - {key: manage-all-nodes, value: "false", override: true}
      - {key: manage-nodes-with-annotation-selector, value: kwok.x-k8s.io/node=fake}
EOF

start_cluster() {
  if cluster_exists; then
    # Left from an earlier run whose processes have gone (session ended, machine reboot).
    log "cluster $cluster_name exists but does not answer; restarting it"
    # kwokctl trusts its pid files: after a reboot a pid may belong to another process,
    # which kwokctl would take for its component (and `stop` would kill). Drop pid files
    # whose process is not one of this cluster's.
    local pidfile pid
    for pidfile in "$KWOK_WORKDIR/clusters/$cluster_name/pids/"*.pid; do
      [[ -f $pidfile ]] || continue
      pid=$(<"$pidfile")
      { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF "$KWOK_WORKDIR/clusters/$cluster_name/" ||
        rm -f "$pidfile"
    done
    # Stop what is left (a half-dead apiserver can take a minute to exit by itself), so
    # start launches every component afresh on its recorded ports and etcd data.
    if kwokctl_ stop cluster --name "$cluster_name" &&
      kwokctl_ --config "$kwokctl_config" start cluster --name "$cluster_name" --timeout 120s &&
      wait_for 60 "the API server" api_ready; then
      # The leader-election leases still name the killed controller-manager and
      # scheduler; the new ones would wait out the lease (15s) before doing anything.
      # Their holders are gone (stopped above), so hand the leases over at once.
      kctl -n kube-system delete lease kube-controller-manager kube-scheduler \
        --ignore-not-found >/dev/null || true
      return 0
    fi
    log "restart failed; deleting and recreating cluster $cluster_name"
    kwokctl_ delete cluster --name "$cluster_name" --kubeconfig "$kubeconfig" || true
  fi
  log "creating cluster $cluster_name (Kubernetes $KUBERNETES_VERSION, kwok $KWOK_VERSION)"
  # --node-lease-duration-seconds 0: kwok-controller plays the nodes without node Leases.
  # With leases, a restarted kwok-controller (new identity) waits out the dead one's
  # 200s leases before it runs any pod. Node health then rests on the node status
  # heartbeats kwok keeps sending, which is all kube-controller-manager needs.
  # kwokctl's own waits (up to 2 min for the apiserver to serve, then --wait) only log a
  # warning when they run out; the api_ready wait below is what decides.
  kwokctl_ --config "$kwokctl_config" create cluster \
    --name "$cluster_name" \
    --runtime binary \
    --kube-apiserver-binary "$bin/kube-apiserver" \
    --kube-controller-manager-binary "$bin/kube-controller-manager" \
    --kube-scheduler-binary "$bin/kube-scheduler" \
    --etcd-binary "$bin/etcd" \
    --kwok-controller-binary "$bin/kwok" \
    --kube-authorization=true \
    --kube-admission=true \
    --node-lease-duration-seconds 0 \
    --kubeconfig "$kubeconfig" \
    --wait 30s --timeout 180s ||
    die "kwokctl create cluster failed (output above); logs: $KWOK_WORKDIR/clusters/$cluster_name/logs/
    after fixing, run dev/cluster/down.sh && dev/cluster/up.sh"
}

started=$SECONDS
# Before any Service exists: its ClusterIP must never follow the default route off the
# machine, with simulated nodes too (routes.sh says why).
"$here/routes.sh" add
if api_ready; then
  log "cluster $cluster_name is already up"
  # A cluster made before a bump in versions.env keeps running the old binaries.
  running=$(server_version 2>/dev/null || true)
  [[ $running == "$KUBERNETES_VERSION" ]] ||
    die "the running cluster is Kubernetes '$running', versions.env pins $KUBERNETES_VERSION;
    recreate it: dev/cluster/down.sh && dev/cluster/up.sh"
else
  start_cluster
  wait_for 60 "the API server at $(kctl config view --minify -o jsonpath='{.clusters[0].cluster.server}' 2>/dev/null)" api_ready ||
    die "the API server does not answer; $(logs_hint kube-apiserver)
    after fixing, run: dev/cluster/down.sh && dev/cluster/up.sh"
fi

# The objects every consumer of this cluster relies on, in one apply (one round trip).
manifests() {
  local i class
  for ((i = 0; i < nodes; i++)); do
    # A simulated node: kwok-controller keeps it Ready and plays the kubelet for pods
    # bound to it. Labels as a kubelet would set them, so nodeSelectors and affinities
    # written for real clusters (kubernetes.io/os=linux) schedule here too.
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: kwok-node-$i
    beta.kubernetes.io/os: linux
    beta.kubernetes.io/arch: amd64
    node-role.kubernetes.io/worker: ""
    topology.kubernetes.io/region: local
    topology.kubernetes.io/zone: local-$((i % 2))
    type: kwok
status:
  allocatable: {cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 200Gi}
  capacity: {cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 200Gi}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: $KUBERNETES_VERSION
    kubeProxyVersion: $KUBERNETES_VERSION
  phase: Running
EOF
  done
  # No provisioner runs here, so both classes are served from pre-created volumes.
  # `standard` is the default (kind's name for it); `local-path` is k3s'/rancher's.
  # Immediate binding: a PVC binds as soon as a matching PV exists, pod or not.
  for class in standard local-path; do
    cat <<EOF
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: $class
  annotations:
    storageclass.kubernetes.io/is-default-class: "$([[ $class == standard ]] && echo true || echo false)"
provisioner: kubernetes.io/no-provisioner
reclaimPolicy: Retain
volumeBindingMode: Immediate
EOF
    for ((i = 0; i < pvs_per_class; i++)); do
      # ReadWriteOnce only, like GKE's standard-rwo: a chart that asks for RWX stays
      # Pending here as it would there. hostPath is never touched (no container runs).
      cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: matrixk8s-$class-$i
  labels: {matrixk8s.local/pool: "true"}
spec:
  storageClassName: $class
  capacity: {storage: 20Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: $pv_root/$class-$i, type: DirectoryOrCreate}
EOF
    done
  done
  cat <<EOF
---
apiVersion: v1
kind: Namespace
metadata:
  name: matrix
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
    pod-security.kubernetes.io/warn: restricted
    pod-security.kubernetes.io/warn-version: latest
    pod-security.kubernetes.io/audit: restricted
    pod-security.kubernetes.io/audit-version: latest
EOF
}
# Switching between simulated nodes and the real node (MATRIXK8S_REAL_NODE): what ran in
# namespace matrix under the other mode means nothing in this one (simulated pods never
# ran; a Job a simulated node "completed" never registered anyone), so the namespace
# starts afresh, and the other mode's nodes go. The namespace goes first, while its pods'
# nodes still run them, so they terminate instead of waiting to be garbage-collected.
namespace_gone() { ! kctl get namespace matrix >/dev/null 2>&1; }
reset_namespace() {
  log "switching to $1: deleting namespace matrix (it held the other mode's deployment)"
  kctl delete namespace matrix --wait=false >/dev/null 2>&1 || true
  wait_for 180 "namespace matrix to be deleted" namespace_gone ||
    die "namespace matrix is still terminating: $(kctl get namespace matrix -o jsonpath='{.status.conditions}')"
}
if [[ $real_node == 1 ]]; then
  if [[ -n $(kctl get nodes -l type=kwok -o name) ]]; then
    reset_namespace "the real node"
    kctl delete node -l type=kwok --ignore-not-found >/dev/null
  fi
elif kctl get node matrixk8s-real >/dev/null 2>&1; then
  reset_namespace "simulated nodes"
  log "stopping the real node (MATRIXK8S_REAL_NODE is not 1)"
  "$repo/dev/node/down.sh"
fi

manifests | kctl apply -f - >/dev/null || die "could not apply the base objects (nodes, storage, namespace matrix)"

# A deleted PVC leaves its Retain PV "Released" and unusable; the volumes are fake, so
# hand them back to the pool. This keeps repeated converge/destroy cycles from running out.
released=$(kctl get pv -l matrixk8s.local/pool=true \
  -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name}{"\n"}{end}')
for pv in $released; do
  log "returning released volume $pv to the pool"
  kctl patch pv "$pv" --type json -p '[{"op":"remove","path":"/spec/claimRef"}]' >/dev/null
done

# Pods can be created only once the ServiceAccount controller made `default` accounts,
# and scheduled only once kwok reports the nodes Ready.
wait_for 60 "ServiceAccount matrix/default" kctl -n matrix get serviceaccount default ||
  die "kube-controller-manager is not creating ServiceAccounts; $(logs_hint kube-controller-manager)"

if [[ $real_node == 1 ]]; then
  # The pool's directories are written by pods running as uid 999 (postgres) or 991
  # (synapse); a hostPath volume is not chown-ed for fsGroup, so they are open to all, as
  # a local-path provisioner's are.
  for class in standard local-path; do
    for ((i = 0; i < pvs_per_class; i++)); do
      install -d -m 1777 "$pv_root/$class-$i"
    done
  done
  # A volume no claim holds starts empty, as a new disk does: files left by an earlier
  # cluster (a database initialised with another password) would otherwise be reused.
  available=$(kctl get pv -l matrixk8s.local/pool=true \
    -o jsonpath='{range .items[?(@.status.phase=="Available")]}{.metadata.name}{"\n"}{end}')
  for pv in $available; do
    find "$pv_root/${pv#matrixk8s-}" -mindepth 1 -delete
  done
  "$repo/dev/node/up.sh"
fi
wait_for 60 "nodes to be Ready" kctl wait --for=condition=Ready node --all --timeout=1s ||
  die "nodes are not Ready; is kwok-controller running? $(logs_hint kwok-controller)"

log "ready in $((SECONDS - started))s: export KUBECONFIG=$kubeconfig (context $context)"
