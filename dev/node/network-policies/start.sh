#!/usr/bin/env bash
# Starts kube-network-policies, the real node's NetworkPolicy enforcer (dev/node/up.sh
# runs this after kube-proxy), and waits until its nftables rules are in place.
# Idempotent: a running enforcer is left alone.
#
# How it enforces: an nftables table `inet kube-network-policies` sends the first packet
# of each new connection from or to a pod that a NetworkPolicy selects to nfqueue
# $queue_id; the enforcer reads the pods and policies from the API and accepts or drops
# it. It fails closed: while the table exists and nothing reads the queue, those packets
# are dropped (down.sh removes the table after stopping it).
# What the kernel must have: nf_tables with the inet family, nfnetlink_queue, and a way
# to queue from nftables: nft_queue, or (this machine) the x_tables NFQUEUE target through
# nft_compat (build.sh patches the enforcer's nftables library for that; see
# queue_as_xt_target.go). Host processes running as root are let through by its rules.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

queue_id=100
table=kube-network-policies
sa_dir="$node_dir/etc/network-policies"

[[ -x "$bin/kube-network-policies" ]] || die "$bin/kube-network-policies is missing; run dev/cluster/build.sh node"
[[ -e /proc/net/netfilter/nfnetlink_queue ]] ||
  die "the kernel has no nfnetlink_queue (/proc/net/netfilter/nfnetlink_queue): kube-network-policies cannot enforce here"

mkdir -p "$node_run" "$node_logs"
if ! running network-policies; then
  kctl apply -f "$here/../node/network-policies/rbac.yaml" >/dev/null
  token_ready() { [[ -n $(kctl -n kube-system get secret kube-network-policies-token -o jsonpath='{.data.token}') ]]; }
  wait_for 30 "the kube-network-policies token" token_ready ||
    die "kube-controller-manager did not fill Secret kube-system/kube-network-policies-token; $(logs_hint kube-controller-manager)"
  install -d -m 0700 "$sa_dir"
  (
    umask 077
    kctl -n kube-system get secret kube-network-policies-token -o jsonpath='{.data.token}' | base64 -d >"$sa_dir/token"
    cp "$KWOK_WORKDIR/clusters/$cluster_name/pki/ca.crt" "$sa_dir/ca.crt"
    echo kube-system >"$sa_dir/namespace"
  )
  server=$(kctl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
  hostport=${server#https://}
  # Run through a link in the node's run directory, so `running`/`stop` know it as ours.
  ln -sfn "$bin/kube-network-policies" "$node_run/kube-network-policies"
  start network-policies env KUBERNETES_SERVICE_HOST="${hostport%:*}" KUBERNETES_SERVICE_PORT="${hostport##*:}" \
    unshare --mount --propagation private -- "$here/../node/network-policies/in-cluster.sh" "$sa_dir" \
    "$node_run/kube-network-policies" --hostname-override="$node_name" --nfqueue-id="$queue_id" \
    --metrics-bind-address=127.0.0.1:9080 --disable-nri
fi

# Its first sync runs once the informers have synced; an error there is only logged, so
# the rules are checked here: the queue rule must be in the table. (Only nft's JSON names
# an x_tables target in an inet table; its text output cannot render it.)
rules_ready() { nft -j list chain inet "$table" postrouting 2>/dev/null | grep -qF '"name": "NFQUEUE"'; }
wait_for 30 "kube-network-policies' nftables rules" rules_ready ||
  die "kube-network-policies did not install its rules; log $node_logs/network-policies.log: $(tail -n 5 "$node_logs/network-policies.log")"
log "kube-network-policies enforces NetworkPolicies (nfqueue $queue_id, table inet $table)"
