#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Proves the local cluster does what the project's tests rely on; exits non-zero on the
# first failed check. Run after dev/cluster/up.sh. Leaves nothing behind.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

passed=0 failed=0 skipped=0
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }
skip() { skipped=$((skipped + 1)); printf 'skip %s\n' "$*"; }
# check NAME CMD...: run one check, record it, keep going so the summary shows them all.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$name"; else fail "$name"; printf '%s\n' "$out" | sed 's/^/     /'; fi
}

api_ready || die "the cluster does not answer; run dev/cluster/up.sh first"

suffix=$$
deploy=smoke-pause-$suffix pvc=smoke-pvc-$suffix svc=smoke-svc-$suffix
cleanup() {
  kctl -n default delete service "$svc" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  kctl -n default delete deployment "$deploy" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  kctl -n default delete pvc "$pvc" --ignore-not-found --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT

helm_is_v3() { "$bin/helm" version --short | tee /dev/stderr | grep -q '^v3\.'; }
check "helm is Helm 3 (kubernetes.core 6.2.0 needs it)" helm_is_v3

server_is_pinned_version() {
  local v
  v=$(server_version) || return 1
  [[ $v == "$KUBERNETES_VERSION" ]] || { echo "server reports '$v', want $KUBERNETES_VERSION"; return 1; }
}
check "API server reports $KUBERNETES_VERSION (not v0.0.0)" server_is_pinned_version

binaries_are_local() {
  # kwokctl links each component binary it uses; every link must lead into our cache.
  local f target
  for f in "$KWOK_WORKDIR/clusters/$cluster_name/bin/"*; do
    target=$(readlink -f "$f")
    [[ $target == "$(readlink -f "$bin")"/* || $target == "${MATRIXK8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/matrixk8s}"/* ]] ||
      { echo "$f -> $target is not one of ours"; return 1; }
  done
  # kwokctl keeps whatever it downloads under its cache dir: there must be none.
  [[ -z $(find "$KWOK_WORKDIR/cache" -type f 2>/dev/null) ]] || { echo "kwokctl downloaded:"; find "$KWOK_WORKDIR/cache" -type f; return 1; }
}
check "kwokctl runs only the locally built binaries (downloaded nothing)" binaries_are_local

# Each step ends in `|| return 1`: `set -e` does not act inside a function called from an
# `if` (as check does), and a later step must not turn an earlier failure into a pass.
deployment_available() {
  kctl -n default create deployment "$deploy" --image=registry.k8s.io/pause:3.10 --replicas=2 || return 1
  kctl -n default wait --for=condition=Available "deployment/$deploy" --timeout=60s || return 1
  [[ $(kctl -n default get deployment "$deploy" -o jsonpath='{.status.readyReplicas}') == 2 ]]
}
check "a Deployment becomes Available on the simulated nodes" deployment_available

pv_released() { [[ $(kctl get pv "$1" -o jsonpath='{.status.phase}') == Released ]]; }
pvc_binds() {
  kctl -n default apply -f - <<EOF || return 1
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: $pvc}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
EOF
  kctl -n default wait --for=jsonpath='{.status.phase}'=Bound "pvc/$pvc" --timeout=60s || return 1
  local pv class
  pv=$(kctl -n default get pvc "$pvc" -o jsonpath='{.spec.volumeName}') || return 1
  class=$(kctl -n default get pvc "$pvc" -o jsonpath='{.spec.storageClassName}') || return 1
  [[ $class == standard ]] || { echo "PVC got class '$class', want the default 'standard'"; return 1; }
  # Give the volume back to the pool (up.sh would too), so repeated runs never run out.
  kctl -n default delete pvc "$pvc" --timeout=30s || return 1
  wait_for 30 "PV $pv to be Released" pv_released "$pv" || return 1
  kctl patch pv "$pv" --type json -p '[{"op":"remove","path":"/spec/claimRef"}]'
}
check "a PVC without a class binds to a pre-created PV of the default class 'standard'" pvc_binds

pod() {  # pod NAME PRIVILEGED: a pod manifest; restricted-compliant unless PRIVILEGED=true
  cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: matrix}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: c
    image: registry.k8s.io/pause:3.10
    securityContext:
      privileged: $2
      allowPrivilegeEscalation: $2
      capabilities: {drop: [ALL]}
EOF
}
# Server-side dry run: the request goes through admission (Pod Security included)
# exactly like a real create, and nothing is stored.
restricted_pod_accepted() { pod smoke-restricted false | kctl apply --dry-run=server -f -; }
privileged_pod_rejected() {
  local out
  if out=$(pod smoke-privileged true | kctl apply --dry-run=server -f - 2>&1); then
    echo "privileged pod was accepted: $out"; return 1
  fi
  grep -q 'violates PodSecurity "restricted' <<<"$out" || { echo "rejected, but not by Pod Security: $out"; return 1; }
}
check "namespace matrix accepts a restricted-compliant pod" restricted_pod_accepted
check "namespace matrix rejects a privileged pod (Pod Security admission, restricted)" privileged_pod_rejected

# No cluster address may leave the machine (routes.sh): with nothing serving them here, a
# connection to a ClusterIP or a pod address fails at once, on this machine, with "No
# route to host"; not after a timeout, and not with an answer from another network.
# refused_here ADDRESS: the kernel refuses to route ADDRESS, and a connect fails in < 1 s.
refused_here() {
  local route out start elapsed_ms
  if route=$(ip -4 route get "$1" 2>&1); then
    echo "ip route get $1 finds a route: $route"; return 1
  fi
  [[ $route == *"No route to host"* ]] || { echo "ip route get $1: $route (want: No route to host)"; return 1; }
  ip -4 route show match "$1" | grep -q '^unreachable ' ||
    { echo "no unreachable route covers $1: $(ip -4 route show match "$1")"; return 1; }
  start=$EPOCHREALTIME
  out=$(timeout 5 bash -c "exec 3<>/dev/tcp/$1/80" 2>&1) && { echo "connected to $1:80"; return 1; }
  elapsed_ms=$(( (${EPOCHREALTIME/./} - ${start/./}) / 1000 ))
  [[ $out == *"No route to host"* || $out == *"Network is unreachable"* ]] ||
    { echo "connect to $1:80 failed otherwise (after ${elapsed_ms} ms): ${out:-timed out}"; return 1; }
  ((elapsed_ms < 1000)) || { echo "connect to $1:80 took ${elapsed_ms} ms to fail"; return 1; }
  echo "$1: ${out##*: } after ${elapsed_ms} ms; $(ip -4 route show match "$1" | grep '^unreachable ')"
}
cluster_addresses_stay_here() {
  local ip
  kctl -n default create service clusterip "$svc" --tcp=80:8080 >/dev/null || return 1
  ip=$(kctl -n default get service "$svc" -o jsonpath='{.spec.clusterIP}') || return 1
  refused_here "$ip" || return 1
  refused_here "${pod_cidr%.0/*}.2"   # an address of the pod range
}
if ((EUID != 0)); then
  skip "cluster addresses stay on this machine: not root, so up.sh could not add the routes"
elif kctl get node matrixk8s-real >/dev/null 2>&1; then
  skip "cluster addresses stay on this machine: the real node serves them (tests/node checks that)"
else
  check "a ClusterIP and a pod address are unreachable from this machine while no real node serves them" \
    cluster_addresses_stay_here
fi

printf '%d passed, %d failed%s\n' "$passed" "$failed" "$( ((skipped == 0)) || printf ', %d skipped' "$skipped")"
((failed == 0))
