#!/usr/bin/env bash
# Keeps the local cluster's Service range ($service_cidr) and pod range ($pod_cidr) on
# this machine: an `unreachable` route for each, at a low priority (metric
# $guard_metric). Whatever serves those addresses here wins over it: the real node's
# bridge route for the pods (metric 0) and its route of the Service range into the
# bridge (dev/node/up.sh, metric 100), whose packets kube-proxy then rewrites. When nothing
# serves them (simulated nodes, the real node stopped), a connect to a ClusterIP fails at
# once with "No route to host" instead of following the default route out of the machine,
# where another network may answer for 10.0.0.x.
#
# Usage: routes.sh add     dev/cluster/up.sh, every run (idempotent)
#        routes.sh remove  dev/cluster/down.sh; kept while another checkout's cluster runs
# Routes are host-wide and need root: without it both only say so and exit 0.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# High enough that any route a program adds for these ranges (metric 0 by default) wins.
guard_metric=4242

# other_clusters: kube-apiservers of this project's clusters in other checkouts (or under
# another cluster name) still running on this machine; they need the routes too.
other_clusters() {
  local pid cmd
  for pid in $(pgrep -x kube-apiserver || true); do
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
    [[ $cmd == */.local/kwok/clusters/* && $cmd != *"$KWOK_WORKDIR/clusters/$cluster_name/"* ]] && echo "$pid"
  done
  return 0
}

# check CIDR: warn when something else routes the range ahead of the guard (a LAN on
# 10.0.0.0/24 at metric 0, say): the cluster's addresses would reach it. Only the real
# node's bridge may (dev/node/lib.sh: mk8s0).
check() {
  local probe="${1%.0/*}.2" got
  got=$(ip -4 route get "$probe" 2>&1 | tr -s " \n" " ") || return 0 # no route: the guard decides
  [[ $got == *" dev mk8s0 "* ]] ||
    log "WARNING: $probe is routed by this machine's network ($got); cluster addresses may leave it"
}

action=${1:-}
[[ $action == add || $action == remove ]] || die "usage: $0 add|remove"
if ((EUID != 0)); then
  log "not root: $action of the routes keeping $service_cidr and $pod_cidr on this machine SKIPPED;" \
    "without them a ClusterIP the real node does not serve follows the default route"
  exit 0
fi

for cidr in "$service_cidr" "$pod_cidr"; do
  if [[ $action == add ]]; then
    ip route replace unreachable "$cidr" metric "$guard_metric"
    check "$cidr"
  elif [[ -z $(other_clusters) ]]; then
    ip route del unreachable "$cidr" metric "$guard_metric" 2>/dev/null || true
  fi
done
if [[ $action == remove && -n $(other_clusters) && -n $(ip -4 route show type unreachable) ]]; then
  log "routes for $service_cidr and $pod_cidr kept: another checkout's cluster runs (pids $(other_clusters | xargs))"
fi
