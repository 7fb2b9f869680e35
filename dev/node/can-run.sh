#!/usr/bin/env bash
# Exit 0 when this machine can run the real node, 1 (with the reason on stderr) when not:
# root (containerd, kubelet and iptables need it), a Linux kernel with bridges and
# bridge netfilter (the pod network and Services), and Debian's apt (the runtime packages).
reason() { printf '[node] cannot run a real node here: %s\n' "$*" >&2; exit 1; }
((EUID == 0)) || reason "not root"
[[ $(uname -s) == Linux ]] || reason "not Linux"
[[ -d /proc/sys/net/bridge ]] || reason "no bridge netfilter (/proc/sys/net/bridge)"
command -v apt-get >/dev/null || reason "no apt-get (the runtime comes from Debian packages)"
exit 0
