#!/usr/bin/env bash
# Installs the Debian packages the real node (MATRIXK8S_REAL_NODE=1) and its image builds
# need. Idempotent and fast when present: dpkg is asked first; `apt-get update` runs only
# when something is missing.
#
# Pinned to the bookworm versions this was built and tested with: a newer runc or
# iptables changes behaviour the node relies on, and a pin that has left the mirror fails
# here, loudly, naming the package, rather than later in a pod.
#   runc                         the OCI runtime containerd's shim calls. runc, not crun:
#                                crun fails on this kernel's hybrid cgroup v1 layout.
#   containernetworking-plugins  bridge, host-local, loopback, portmap (pod network)
#   iptables, conntrack          kube-proxy's Service routing (iptables mode)
#   nftables                     `nft`: checks and removes kube-network-policies' table
#   mmdebstrap                   the images' root filesystems (dev/images)
set -euo pipefail

packages=(
  runc=1.1.5+ds1-1+deb12u1
  containernetworking-plugins=1.1.1+ds1-3+b5
  iptables=1.8.9-2
  conntrack=1:1.4.7-1+b2
  nftables=1.0.6-2+deb12u2
  mmdebstrap=1.3.5-7
)
log() { printf '[node-packages] %s\n' "$*" >&2; }

missing=()
for p in "${packages[@]}"; do
  name=${p%%=*} want=${p#*=}
  have=$(dpkg-query -W -f '${db:Status-Status} ${Version}' "$name" 2>/dev/null || true)
  [[ $have == "installed $want" ]] || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

((EUID == 0)) || { log "not root: install ${missing[*]} as root"; exit 1; }
log "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
