# Shared by dev/node/*.sh (sourced): where the real node lives and how to run its
# processes. Everything is under the checkout's ignored .local/node/, like the cluster.
# shellcheck shell=bash source-path=SCRIPTDIR
# shellcheck source=../cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"

node_name=matrixk8s-real
node_dir="$repo/.local/node"
node_run="$node_dir/run"          # sockets and pid files
node_logs="$node_dir/logs"
containerd_sock="$node_run/containerd.sock"
# Pod network: one bridge on $pod_cidr (../cluster/lib.sh), masqueraded to the outside.
# The names carry no worktree id: one real node per machine (they would share iptables
# and the bridge). The bridge holds the pods' gateway, the first address of the range.
bridge=mk8s0
bridge_ip=10.88.0.1
# Cluster DNS: CoreDNS runs on the host at a link-local address of its own (the
# NodeLocal DNSCache pattern): pods reach it through their default route, and no Service
# or image is needed for DNS itself.
dns_ip=169.254.20.10
cluster_domain=cluster.local
# The comment on up.sh's rule that lets pods reach the API server (down.sh removes it).
api_rule_comment="matrixk8s: pods to the API server"

# running NAME: its pid file names a live process that is ours.
running() {
  local pid
  pid=$(cat "$node_run/$1.pid" 2>/dev/null) || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$node_dir"
}

# start NAME CMD...: run CMD in the background, detached from this shell (it outlives
# up.sh), logging to logs/NAME.log. No-op when already running.
start() {
  local name=$1
  shift
  running "$name" && return 0
  log "starting $name"
  setsid "$@" >>"$node_logs/$name.log" 2>&1 </dev/null &
  echo $! >"$node_run/$name.pid"
}

# stop NAME: SIGTERM, then SIGKILL after 20s.
stop() {
  local name=$1 pid i
  running "$name" || { rm -f "$node_run/$name.pid"; return 0; }
  pid=$(<"$node_run/$name.pid")
  log "stopping $name ($pid)"
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$node_run/$name.pid"
}

# host_ip: the address of the interface the default route uses (the node's InternalIP).
host_ip() { ip -4 route get 1.1.1.1 | sed -n 's/.* src \([0-9.]*\).*/\1/p'; }

nctr() { "$bin/ctr" -a "$containerd_sock" -n k8s.io "$@"; }
