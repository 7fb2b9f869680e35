# Shared by up.sh, down.sh and smoke.sh (sourced, not run): paths, names and the
# bounded-wait helpers, so every script agrees on where the cluster lives.
# shellcheck shell=bash source-path=SCRIPTDIR

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

bin="$repo/.local/bin"
# The cluster belongs to this checkout: its state (pki, etcd data, logs, pids) lives in
# the ignored .local/ tree, so a fresh clone (CI) never sees a stale cluster of another one.
export KWOK_WORKDIR="$repo/.local/kwok"
cluster_name=${MATRIXK8S_CLUSTER_NAME:-matrixk8s}
kubeconfig="$repo/.local/kubeconfig"
context="kwok-$cluster_name"
# The cluster's address ranges. Services: the API server's --service-cluster-ip-range
# (up.sh passes it; it is also kube-apiserver's default). Pods: the real node's bridge
# (dev/node). routes.sh keeps both on this machine whenever a cluster runs.
service_cidr=10.0.0.0/24
pod_cidr=10.88.0.0/16

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

# Every API call is bounded, so a dead apiserver fails fast instead of hanging.
kctl() { "$bin/kubectl" --kubeconfig "$kubeconfig" --context "$context" --request-timeout=10s "$@"; }

# api_ready: true when the apiserver answers /readyz (all its checks pass).
api_ready() {
  [[ -f "$kubeconfig" && -x "$bin/kubectl" ]] && kctl get --raw /readyz >/dev/null 2>&1
}

# server_version: the API server's gitVersion, e.g. v1.34.4 (no jq: not on a new machine).
server_version() {
  kctl get --raw /version | sed -n 's/^ *"gitVersion": *"\([^"]*\)".*/\1/p'
}

# wait_for SECONDS WHAT CMD...: retry CMD once a second until it succeeds or time runs out.
wait_for() {
  local limit=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { log "timed out after ${limit}s waiting for $what"; return 1; }
    sleep 1
  done
}

# kwokctl with a bounded run time (its own waits only warn and go on), and with our
# kubectl first on PATH: kwokctl runs `kubectl` from PATH for its readiness checks, and
# the machine's may be another version (gcloud's dispatcher, here).
kwokctl_() { PATH="$bin:$PATH" timeout "${KWOKCTL_TIMEOUT:-240}" "$bin/kwokctl" "$@"; }

# logs_hint COMPONENT: where its log is, and its last lines, for an error message.
logs_hint() {
  local f="$KWOK_WORKDIR/clusters/$cluster_name/logs/$1.log"
  printf 'log %s, last lines:\n' "$f"
  tail -n 8 "$f" 2>/dev/null | cut -c1-300 | sed 's/^/      /'
}

# cluster_exists: kwokctl knows a cluster of that name in this checkout's workdir.
cluster_exists() { kwokctl_ get clusters 2>/dev/null | grep -qx "$cluster_name"; }
