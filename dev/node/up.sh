#!/usr/bin/env bash
# Starts the real node `matrixk8s-real` and joins it to the running local control plane
# (dev/cluster/up.sh calls this when MATRIXK8S_REAL_NODE=1): containerd with runc, the
# CNI bridge, kubelet, kube-proxy, CoreDNS and kube-network-policies (the NetworkPolicy
# enforcer), as host processes run from .local/node/.
# Then it builds (cached) and imports the images, waits until the node is Ready, and starts
# the ingress (Traefik, cert-manager and the test CAs: ingress/start.sh) as pods.
# Idempotent: what already runs is left alone.
#
# Why these settings (this kernel: hybrid cgroups, v1 controllers + an empty v2 mount):
# - runc, not crun: crun fails on the hybrid layout; runc drives cgroup v1.
# - cgroupfs driver in both containerd (SystemdCgroup=false) and kubelet: PID 1 here is
#   not systemd, so there is no systemd to delegate cgroups to; the two must agree.
# - kubelet 1.34 with failCgroupV1=false: 1.35 refuses cgroup v1 (hence the pin in
#   versions.env).
# - image garbage collection off: no image here can be pulled again once deleted.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

((EUID == 0)) || die "the real node needs root (containerd, kubelet, iptables)"
api_ready || die "the control plane does not answer; run dev/cluster/up.sh"
"$here/../node/install-packages.sh"
for b in containerd containerd-shim-runc-v2 ctr kubelet kube-proxy coredns kube-network-policies traefik cert-manager-controller; do
  [[ -x "$bin/$b" ]] || die "$bin/$b is missing; run dev/cluster/build.sh node"
done
# A cluster created before kwok-controller was limited to the simulated nodes would
# take this node over too.
grep -qF -- '--manage-nodes-with-annotation-selector=' "$KWOK_WORKDIR/clusters/$cluster_name/kwok.yaml" ||
  die "this cluster's kwok-controller manages every node (it predates the real node);
    recreate it: dev/cluster/down.sh && MATRIXK8S_REAL_NODE=1 dev/cluster/up.sh"
# A cluster created before the kubelet API was authenticated has an API server without a
# kubelet client certificate: `kubectl logs/exec` would be refused by this kubelet.
grep -qF -- '--kubelet-client-certificate=' "$KWOK_WORKDIR/clusters/$cluster_name/kwok.yaml" ||
  die "this cluster's API server has no kubelet client certificate (it predates the authenticated kubelet);
    recreate it: dev/cluster/down.sh && MATRIXK8S_REAL_NODE=1 dev/cluster/up.sh"
mkdir -p "$node_run" "$node_logs" "$node_dir"/{etc,cni/net.d,containerd,kubelet}
ip=$(host_ip)
[[ -n $ip ]] || die "no default route: cannot tell the node's address"

# --- kernel: forward pod traffic, and let iptables see bridged traffic (a pod that
# reaches a Service backed by a pod on the same bridge).
sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1

# --- the pods' bridge, made here rather than by the CNI plugin at the first pod (which
# finds and keeps it): the Service range is routed into it from the start, ahead of the
# unreachable route dev/cluster/routes.sh keeps for it. The host's own connections to a
# ClusterIP are then rewritten by kube-proxy to a pod on this bridge, and one kube-proxy
# has not programmed yet goes nowhere but the bridge: never out of the machine.
ip link show "$bridge" >/dev/null 2>&1 || ip link add "$bridge" type bridge
ip -4 addr show dev "$bridge" | grep -qF " $bridge_ip/${pod_cidr#*/} " || ip addr add "$bridge_ip/${pod_cidr#*/}" dev "$bridge"
ip link set "$bridge" up
ip route replace "$service_cidr" dev "$bridge" metric 100

# --- containerd
cat >"$node_dir/etc/containerd.toml" <<CFG
version = 2
root = "$node_dir/containerd"
state = "$node_run/containerd"
[grpc]
  address = "$containerd_sock"
[plugins."io.containerd.grpc.v1.cri"]
  # Our own pause image (dev/images): registry.k8s.io cannot be reached.
  sandbox_image = "matrixk8s.local/pause:1"
  enable_unprivileged_ports = false
  # The kubelet asks for negative OOM scores (-998 for the pod sandbox), which this
  # machine's sandbox forbids even to root (runc: "failed to update
  # /proc/self/oom_score_adj: Permission denied"): keep scores >= containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$node_dir/cni/net.d"
CFG
# The shim is found on containerd's PATH.
start containerd env PATH="$bin:$PATH" "$bin/containerd" --config "$node_dir/etc/containerd.toml"
wait_for 30 "containerd" "$bin/ctr" -a "$containerd_sock" version ||
  die "containerd did not start; log $node_logs/containerd.log: $(tail -n 5 "$node_logs/containerd.log")"

# --- pod network: a bridge with host-local addresses, masquerade to the outside,
# hairpin so a pod reaches itself through a Service.
cat >"$node_dir/cni/net.d/10-matrixk8s.conflist" <<CFG
{
  "cniVersion": "1.0.0",
  "name": "matrixk8s",
  "plugins": [
    {
      "type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": true,
      "hairpinMode": true,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": "$pod_cidr"}]],
               "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$node_dir/cni/ipam"}
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
CFG

# --- images the pods use (cached by content; a warm run only checks digests)
CONTAINERD_ADDRESS="$containerd_sock" "$repo/dev/images/build.sh"

# --- cluster DNS
# On the loopback device: this kernel has no dummy interfaces, and an address on lo is
# local for packets arriving on any interface, the pods' bridge included.
ip -4 addr show dev lo | grep -qF " $dns_ip/32 " || ip addr add "$dns_ip/32" dev lo
# Every name under matrix.test (the test homeservers' server names and their delegated
# hosts) is answered as the ingress Service traefik.ingress (ingress/start.sh), whatever
# address it was given, with the asked name put back in the answer; so a pod (Synapse
# federating, a client) reaches any of them through the ingress, by its own name, with TLS.
corefile=$(
  cat <<CFG
.:53 {
    bind $dns_ip
    errors
    rewrite stop {
        name regex ^(.+\.)?matrix\.test\.$ traefik.ingress.svc.$cluster_domain.
        answer auto
    }
    kubernetes $cluster_domain in-addr.arpa ip6.arpa {
        kubeconfig $kubeconfig $context
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 30
}
CFG
)
# A changed Corefile (a node started before this version of the script) restarts CoreDNS.
if [[ ! -f $node_dir/etc/Corefile || $(<"$node_dir/etc/Corefile") != "$corefile" ]]; then
  printf '%s\n' "$corefile" >"$node_dir/etc/Corefile"
  stop coredns
fi
start coredns "$bin/coredns" -conf "$node_dir/etc/Corefile"

# --- kubelet. Credentials: the cluster's admin kubeconfig (a local, single-user cluster).
# Its API (logs, exec, port-forward, and /pods, /run... for whoever reaches port 10250)
# listens on the node's address only and admits no anonymous caller: a client certificate
# of the cluster CA (the API server's, dev/cluster/up.sh) or a token the API server
# vouches for (webhook), and each request is authorised by the API server
# (SubjectAccessReview, webhook).
cat >"$node_dir/etc/kubelet.yaml" <<CFG
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $ip
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$containerd_sock
clusterDNS: [$dns_ip]
clusterDomain: $cluster_domain
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $KWOK_WORKDIR/clusters/$cluster_name/pki/ca.crt}
authorization: {mode: Webhook}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# The volumes are hostPath directories on a shared disk: evicting on its fill level would
# only stop the tests; it is watched by the machine, not the kubelet.
evictionHard: {memory.available: 100Mi}
serializeImagePulls: false
podPidsLimit: 4096
CFG
start kubelet "$bin/kubelet" --config "$node_dir/etc/kubelet.yaml" \
  --kubeconfig "$kubeconfig" --hostname-override "$node_name" --node-ip "$ip" \
  --root-dir "$node_dir/kubelet" --cert-dir "$node_dir/kubelet/pki" \
  --node-labels "matrixk8s.local/real-node=true" -v 1

# --- kube-proxy (iptables mode). conntrack maxPerCore 0: leave the host's table size
# alone (setting it needs a writable /proc/sys/net/netfilter it may not have).
cat >"$node_dir/etc/kube-proxy.yaml" <<CFG
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: $pod_cidr
hostnameOverride: $node_name
clientConnection: {kubeconfig: $kubeconfig}
conntrack: {maxPerCore: 0}
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
CFG
start kube-proxy "$bin/kube-proxy" --config "$node_dir/etc/kube-proxy.yaml"

# --- NetworkPolicy enforcement (kube-network-policies; network-policies/start.sh says how).
# Its start (ServiceAccount token, informers, rules: about 6 s) overlaps the kubelet's.
"$here/../node/network-policies/start.sh" &
enforcer_start=$!

wait_for 90 "node $node_name to be Ready" kctl wait --for=condition=Ready "node/$node_name" --timeout=1s ||
  die "node $node_name is not Ready; log $node_logs/kubelet.log: $(grep -E '^E' "$node_logs/kubelet.log" | tail -n 5)"
wait "$enforcer_start" || die "kube-network-policies did not start (its error is above)"
log "node $node_name is Ready (containerd $containerd_sock, DNS $dns_ip)"

# --- pods reach the API server (the ingress controllers read Ingresses and write Secrets).
# kwokctl binds kube-apiserver to 127.0.0.1 only, while the `kubernetes` Service's endpoint
# is the machine's address ($ip, its advertise address) where nothing listens: a pod's
# connection to the Service is sent to the loopback address instead, before kube-proxy's
# rules see it: this rule goes first in PREROUTING once kube-proxy has put its jump there
# (kube-proxy prepends its jump only when it is missing, so it then stays behind ours).
# route_localnet lets the bridge's packets reach 127.0.0.1 (kube-
# proxy turns it on for all interfaces anyway). The API server's certificate names
# kubernetes.default.svc, not the Service's address: the pods set KUBERNETES_SERVICE_HOST
# to that name (ingress/*.yaml). down.sh removes the rule.
api_port=$(kctl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
api_port=${api_port##*:}
api_service_ip=$(kctl -n default get service kubernetes -o jsonpath='{.spec.clusterIP}')
sysctl -qw "net.ipv4.conf.$bridge.route_localnet=1"
api_rule=(-i "$bridge" -d "$api_service_ip" -p tcp --dport 443 -m comment --comment "$api_rule_comment"
  -j DNAT --to-destination "127.0.0.1:$api_port")
kube_proxy_jump() { iptables -t nat -S PREROUTING | grep -q -- '-j KUBE-SERVICES'; }
wait_for 30 "kube-proxy's rules" kube_proxy_jump || die "kube-proxy did not install its rules; log $node_logs/kube-proxy.log"
if [[ $(iptables -t nat -S PREROUTING | sed -n 2p) != *"$api_rule_comment"* ]]; then
  iptables -t nat -D PREROUTING "${api_rule[@]}" 2>/dev/null || true
  iptables -t nat -I PREROUTING 1 "${api_rule[@]}"
fi

# --- the ingress (Traefik) and cert-manager with the test CAs, as pods on this node: every
# real-node cluster serves the charts' Ingresses over TLS (ingress/start.sh says how).
"$here/../node/ingress/start.sh"
