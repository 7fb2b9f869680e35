#!/usr/bin/env bash
# Stops the real node: kubelet, kube-proxy and the NetworkPolicy enforcer first (nothing
# restarts pods), then every container, CoreDNS and containerd; removes the node object,
# the bridge (with the Service range's route into it: dev/cluster/routes.sh's unreachable
# route takes over), the DNS address, the enforcer's nftables table and kube-proxy's
# iptables rules. Idempotent. Images and volumes stay.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stop kubelet
stop kube-proxy
# The enforcer removes its nftables table only on SIGINT, and then waits 5 s: its table
# is removed here instead (a table nobody serves drops the queued packets: fails closed).
stop network-policies
nft delete table inet kube-network-policies 2>/dev/null || true
if running containerd; then
  for t in $(nctr tasks ls -q 2>/dev/null); do nctr tasks kill -s KILL "$t" >/dev/null 2>&1 || true; done
  sleep 2
fi
stop coredns
stop containerd
[[ -x "$bin/kube-proxy" ]] && "$bin/kube-proxy" --cleanup >/dev/null 2>&1 || true
# up.sh's rule sending pods' API connections to the API server (any port: a new cluster
# has another).
iptables -t nat -S PREROUTING 2>/dev/null | grep -F -- "--comment \"$api_rule_comment\"" |
  sed 's/^-A /-D /' | while read -r rule; do eval "iptables -t nat $rule" || true; done
# Pod network namespaces and container mounts left behind by killed containers.
grep -F "$node_dir" /proc/mounts | awk '{print $2}' | sort -r | xargs -r umount -l 2>/dev/null || true
ip link del "$bridge" 2>/dev/null || true
ip addr del "$dns_ip/32" dev lo 2>/dev/null || true
rm -rf "$node_dir/cni/ipam"
if api_ready; then kctl delete node "$node_name" --ignore-not-found >/dev/null; fi
log "node $node_name stopped"
