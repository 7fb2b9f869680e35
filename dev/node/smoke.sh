#!/usr/bin/env bash
# Proves the real node runs containers and routes Services by DNS name: an nginx pod
# behind a Service, and a scratch pod (another of our images) that resolves
# <service>.<namespace>.svc.cluster.local through CoreDNS and fetches the page through
# kube-proxy's ClusterIP rules. And that its kubelet API refuses anonymous callers while
# `kubectl logs` and `exec` (through the API server) work. Exits non-zero when any step
# fails. Leaves nothing behind.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

api_ready || die "the cluster does not answer; run MATRIXK8S_REAL_NODE=1 dev/cluster/up.sh"
kctl get node "$node_name" >/dev/null 2>&1 || die "no node $node_name; run MATRIXK8S_REAL_NODE=1 dev/cluster/up.sh"

ns=node-smoke-$$
cleanup() { kctl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT
kctl create namespace "$ns" >/dev/null
kctl -n "$ns" create deployment web --image=matrixk8s.local/nginx-unprivileged:1.22 --port=8080 >/dev/null
kctl -n "$ns" expose deployment web --port 80 --target-port 8080 >/dev/null
kctl -n "$ns" rollout status deployment/web --timeout=60s >/dev/null ||
  die "nginx pod did not become Available: $(kctl -n "$ns" describe pods | tail -n 5)"
log "ok   nginx pod Running on $node_name"

name="web.$ns.svc.$cluster_domain"
kctl -n "$ns" run scratch --image=matrixk8s.local/postgres:17 --restart=Never --command -- bash -c "
  set -e
  getent hosts $name
  exec 3<>/dev/tcp/$name/80
  printf 'GET / HTTP/1.0\r\nHost: web\r\n\r\n' >&3
  cat <&3" >/dev/null
wait_for 60 "the scratch pod to finish" \
  bash -c "[[ \$($bin/kubectl --kubeconfig $kubeconfig --context $context -n $ns get pod scratch -o jsonpath='{.status.phase}') == Succeeded ]]" ||
  die "scratch pod did not succeed: $(kctl -n "$ns" logs scratch 2>&1 | tail -n 5)"
out=$(kctl -n "$ns" logs scratch)
cluster_ip=$(kctl -n "$ns" get service web -o jsonpath='{.spec.clusterIP}')
grep -q "^$cluster_ip " <<<"$out" || die "$name did not resolve to the Service's ClusterIP $cluster_ip: $out"
log "ok   $name resolves to ClusterIP $cluster_ip in a pod"
grep -q '^HTTP/1.1 200' <<<"$out" && grep -q '<h1>nginx</h1>' <<<"$out" ||
  die "no nginx page through the Service: $out"
log "ok   the pod fetched nginx's page through the Service"

# The kubelet API: no credentials, no answer (401); the API server's certificate gets in,
# as `kubectl logs` above and `exec` below show.
ip=$(kctl get node "$node_name" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}')
code=$(curl -ks -o /dev/null -w '%{http_code}' --max-time 5 "https://$ip:10250/pods") || true
[[ $code == 401 ]] || die "the kubelet API at $ip:10250 answered $code to an anonymous /pods, want 401"
log "ok   the kubelet API at $ip:10250 refuses an anonymous caller (401)"
[[ $(kctl -n "$ns" exec deployment/web -- cat /etc/hostname) == web-* ]] ||
  die "kubectl exec through the API server did not reach the nginx container"
log "ok   kubectl logs and exec reach the containers through the API server"
