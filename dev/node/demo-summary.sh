#!/usr/bin/env bash
# After `make demo` on the real node: where Synapse and .well-known answer, checked live.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# url SERVICE: its http URL, once the address is known to stay on this machine (routed
# into the real node's bridge, where kube-proxy serves it); otherwise nothing is fetched.
url() {
  local ip
  ip=$(kctl -n matrix get service "$1" -o jsonpath='{.spec.clusterIP}')
  [[ $(ip -4 route get "$ip" 2>&1) == *" dev $bridge "* ]] ||
    die "Service $1's address $ip is not served by the real node ($(ip -4 route get "$ip" 2>&1)); is it up?"
  kctl -n matrix get service "$1" -o jsonpath='http://{.spec.clusterIP}:{.spec.ports[?(@.name=="http")].port}'
}
synapse=$(url synapse) well_known=$(url well-known)
health=$(curl -fsS --max-time 5 "$synapse/health" || echo "NO ANSWER")
log "mode: REAL NODE ($node_name); pods:"
kctl -n matrix get pods -o wide >&2
log "Synapse:     $synapse  (/health: $health)"
log "well-known:  $well_known/.well-known/matrix/server -> $(curl -fsS --max-time 5 "$well_known/.well-known/matrix/server" || echo "NO ANSWER")"
log "admin user:  @admin:example.test, password in Secret matrix/synapse-admin-admin"
[[ $health == OK ]]
