#!/usr/bin/env bash
# Starts the real node's ingress (dev/node/up.sh runs this once the node is Ready):
# Traefik (traefik.yaml) and cert-manager (its CRDs, cert-manager.yaml), then the CA
# issuers (issuers.yaml), and waits until both controllers are ready and both CA
# ClusterIssuers are Ready, each wait bounded. Idempotent: applying unchanged objects
# changes nothing, and every wait returns at once when its condition already holds.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
ingress_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
source "$ingress_dir/../lib.sh"

for b in kubectl cert-manager-controller; do
  [[ -x "$bin/$b" ]] || die "$bin/$b is missing; run dev/cluster/build.sh node"
done
# cert-manager's CRDs, kept by build.sh with the binary of the same version.
crds="$(dirname "$(readlink -f "$bin/cert-manager-controller")")/crds"
[[ -d $crds ]] || die "no cert-manager CRDs in $crds; run dev/cluster/build.sh node"

# Server-side apply: the issuer CRDs are over 300 kB each, more than the
# last-applied-configuration annotation of a client-side apply may hold.
sapply() { kctl apply --server-side --force-conflicts --field-manager=matrixk8s-node "$@" >/dev/null; }

# kctl_long ARGS...: kubectl without kctl's 10 s request timeout, which would cut a
# `wait` or `rollout status` short; each call below bounds itself with --timeout.
kctl_long() { "$bin/kubectl" --kubeconfig "$kubeconfig" --context "$context" "$@"; }

sapply -f "$crds"
kctl_long wait --timeout=60s --for=condition=Established crd/certificates.cert-manager.io \
  crd/certificaterequests.cert-manager.io crd/issuers.cert-manager.io \
  crd/clusterissuers.cert-manager.io crd/orders.acme.cert-manager.io \
  crd/challenges.acme.cert-manager.io >/dev/null || die "cert-manager's CRDs are not served after 60s"
sapply -f "$ingress_dir/traefik.yaml" -f "$ingress_dir/cert-manager.yaml"

# The two controllers start together; each rollout wait is bounded.
rollout() {
  kctl_long -n "$1" rollout status "deployment/$2" --timeout=120s >/dev/null ||
    die "deployment $1/$2 is not ready after 120s: $(kctl -n "$1" get pods -o wide 2>&1 | tail -n 3);
    its log: $(kctl -n "$1" logs "deployment/$2" --tail=5 2>&1)"
}
rollout ingress traefik
rollout cert-manager cert-manager

sapply -f "$ingress_dir/issuers.yaml"
kctl_long wait --timeout=120s --for=condition=Ready clusterissuer/matrixk8s-test-ca clusterissuer/matrixk8s-rogue-ca >/dev/null ||
  die "the CA ClusterIssuers are not Ready after 120s:
$(kctl get clusterissuers,certificates -A -o wide 2>&1)
    cert-manager's log: $(kctl -n cert-manager logs deployment/cert-manager --tail=5 2>&1)"
log "ingress ready: Traefik at service ingress/traefik (IngressClass traefik), cert-manager with ClusterIssuers matrixk8s-test-ca and matrixk8s-rogue-ca"
