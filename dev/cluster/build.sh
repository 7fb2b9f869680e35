#!/usr/bin/env bash
# Builds the local control plane's binaries (helm, kwok/kwokctl, etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl) from the Go module proxy, at the
# versions pinned in versions.env, and links them into <repo>/.local/bin/.
#
# Why from source: this machine reaches package registries only (no release downloads,
# no images), and the Go module proxy serves all of these projects.
# Why a cache outside the repo, keyed by version: a fresh clone (CI) or `git clean` must
# not throw away a 12-minute cold build; a version bump builds into a new directory.
# Warm path (everything already built): a few checks and symlinks, well under a second.
#
# Usage: dev/cluster/build.sh            # build what is missing, link everything
#        dev/cluster/build.sh node       # also the real node's programs (kubelet,
#                                          # kube-proxy, containerd, coredns,
#                                          # kube-network-policies, traefik,
#                                          # cert-manager-controller); the same
#                                          # as MATRIXK8S_REAL_NODE=1
# Env:   MATRIXK8S_CACHE  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/matrixk8s)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${MATRIXK8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/matrixk8s}
bin="$repo/.local/bin"
mkdir -p "$cache" "$bin"

command -v go >/dev/null || { echo "build.sh: 'go' not found; install Go >= 1.26 first" >&2; exit 1; }

# Never let the go command fetch another toolchain (it could not anyway: registries only);
# fail with the real message instead. Static binaries; -trimpath keeps builds reproducible.
# Go's module and build caches stay at their defaults (outside the repo) so reruns are warm.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath

# One build at a time (2 cores; and two shells running `make cluster` must not race).
exec 9>"$cache/.lock"
flock 9

log() { printf '[build] %s\n' "$*" >&2; }

# quiet CMD...: run CMD with its chatter ("go: added ...") hidden, shown only if it fails.
quiet() {
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if ((rc)); then printf '%s\n' "$out" >&2; log "FAILED ($rc): $*"; return "$rc"; fi
}

# have DIR BIN...: true when DIR already holds every binary (a finished build).
have() { local dir=$1 b; shift; for b; do [[ -x "$dir/$b" ]] || return 1; done; }

# link DIR BIN...: point .local/bin/BIN at the cached binary.
link() { local dir=$1 b; shift; for b; do ln -sfn "$dir/$b" "$bin/$b"; done; }

# gomod_path MODULE@VERSION: the module's go.mod file in the module cache (downloads it).
gomod_path() { go list -m -f '{{.GoMod}}' "$1"; }

# Builds go into "$out.tmp" and is renamed to "$out" only when complete, so an interrupted
# build is never mistaken for a finished one.
begin() { out="$cache/$1"; rm -rf "$out.tmp"; mkdir -p "$out.tmp"; started=$SECONDS; }
finish() { mv "$out.tmp" "$out"; log "done: $1 in $((SECONDS - started))s -> $out"; }

build_helm() {
  local v=$HELM_VERSION name="helm-$HELM_VERSION"
  if ! have "$cache/$name" helm; then
    log "building helm $v (cold build: about 2 minutes)…"
    begin "$name"
    # Helm's Makefile stamps its version and the Kubernetes version that `helm lint` and
    # `helm template` assume; the latter comes from the k8s.io/client-go it is built with.
    local kminor
    kminor=$(awk '$1 == "k8s.io/client-go" { split($2, p, "."); print p[2] }' \
      "$(gomod_path "helm.sh/helm/v3@$v")")
    local ld="-s -w -X helm.sh/helm/v3/internal/version.version=$v"
    ld+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
    ld+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1"
    ld+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$kminor"
    ld+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1"
    ld+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$kminor"
    GOBIN="$out.tmp" go install -ldflags "$ld" "helm.sh/helm/v3/cmd/helm@$v"
    finish "$name"
  fi
  link "$cache/$name" helm
}

build_kwok() {
  local v=$KWOK_VERSION name="kwok-$KWOK_VERSION"
  if ! have "$cache/$name" kwok kwokctl; then
    log "building kwok and kwokctl $v (cold build: about 2-3 minutes)…"
    begin "$name"
    # KubeVersion is only kwokctl's default for --kube-version; up.sh passes ours anyway.
    local ld="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${v#v}"
    ld+=" -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBERNETES_VERSION#v}"
    GOBIN="$out.tmp" go install -ldflags "$ld" \
      "sigs.k8s.io/kwok/cmd/kwok@$v" "sigs.k8s.io/kwok/cmd/kwokctl@$v"
    finish "$name"
  fi
  link "$cache/$name" kwok kwokctl
}

# Builds from a throwaway wrapper module: etcd's and Kubernetes' own go.mod files carry
# `replace` directives, so `go install pkg@version` refuses them.
# wrapper DIR: creates an empty module in DIR.
wrapper() {
  mkdir -p "$1"
  (cd "$1" && quiet go mod init matrixk8s.local/wrapper)
}

build_etcd() {
  local v=$ETCD_VERSION name="etcd-$ETCD_VERSION"
  if ! have "$cache/$name" etcd; then
    log "building etcd $v (cold build: about 1 minute)…"
    begin "$name"
    local w="$out.tmp/src"
    wrapper "$w"
    # In 3.6 the etcd binary's main package is the root of go.etcd.io/etcd/server/v3.
    (cd "$w" && quiet go get "go.etcd.io/etcd/server/v3@$v" \
      && go build -ldflags "-s -w" -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3)
    rm -rf "$w"
    finish "$name"
  fi
  link "$cache/$name" etcd
}

K8S_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
# The real node's programs (MATRIXK8S_REAL_NODE=1): built into their own cache directory,
# so the simulated-node default neither waits for them nor rebuilds the control plane.
K8S_NODE_CMDS=(kubelet kube-proxy)

# build_kubernetes [node]: the control plane (default) or the node programs, from one
# wrapper module around k8s.io/kubernetes at the pinned version.
build_kubernetes() {
  local v=$KUBERNETES_VERSION name="kubernetes-$KUBERNETES_VERSION" cmds=("${K8S_CMDS[@]}")
  if [[ ${1:-} == node ]]; then name="kubernetes-node-$KUBERNETES_VERSION" cmds=("${K8S_NODE_CMDS[@]}"); fi
  if ! have "$cache/$name" "${cmds[@]}"; then
    log "building ${cmds[*]} $v (cold build: about 7 minutes on 2 cores)…"
    begin "$name"
    local w="$out.tmp/src" staging_v="v0.${v#v1.}" mod m
    wrapper "$w"
    mod=$(gomod_path "k8s.io/kubernetes@$v")
    # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with
    # ./staging/src/...; point every one of them at its published v0.<minor>.<patch>.
    {
      echo "require k8s.io/kubernetes $v"
      echo "replace ("
      sed -nE 's#^\s*(k8s\.io/[a-z0-9-]+) => \./staging/src/.*#\1#p' "$mod" |
        while read -r m; do echo "  $m => $m $staging_v"; done
      echo ")"
    } >>"$w/go.mod"
    local pkgs=() ld c
    for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
    # Stamp the version as the release builds do, or clients (Helm) see v0.0.0.
    ld="-s -w"
    for m in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld+=" -X $m.gitVersion=$v -X $m.gitMajor=1 -X $m.gitMinor=$(cut -d. -f2 <<<"$v")"
      ld+=" -X $m.gitTreeState=clean"
    done
    (cd "$w" && quiet go get "${pkgs[@]/%/@$v}" \
      && go build -ldflags "$ld" -o "$out.tmp/" "${pkgs[@]}")  # one go build: shared packages compile once
    rm -rf "$w"
    finish "$name"
  fi
  link "$cache/$name" "${cmds[@]}"
}

# containerd (with its runc shim and ctr) for the real node. Not Debian's: bookworm ships
# 1.6.20, which is end of life and older than the 1.7 line Kubernetes 1.34 is tested
# with. 1.7, not 2.x: 1.7 is containerd's long-term line and keeps full cgroup v1 support,
# which this kernel's hybrid layout needs. Static (CGO off) with the build tags the
# containerd release uses for a cgo-free build (no btrfs snapshotter; overlayfs is used).
build_containerd() {
  local v=$CONTAINERD_VERSION name="containerd-$CONTAINERD_VERSION"
  if ! have "$cache/$name" containerd containerd-shim-runc-v2 ctr; then
    log "building containerd $v (cold build: about 2 minutes)…"
    begin "$name"
    # A wrapper module: containerd's go.mod has `exclude` directives, which `go install
    # pkg@version` refuses.
    local m=github.com/containerd/containerd w="$out.tmp/src"
    local ld="-s -w -X $m/version.Version=$v -X $m/version.Package=$m"
    wrapper "$w"
    (cd "$w" && quiet go get "$m/cmd/containerd@$v" "$m/cmd/containerd-shim-runc-v2@$v" "$m/cmd/ctr@$v" &&
      go build -tags "no_btrfs no_devmapper no_zfs no_aufs" -ldflags "$ld" -o "$out.tmp/" \
        "$m/cmd/containerd" "$m/cmd/containerd-shim-runc-v2" "$m/cmd/ctr")
    rm -rf "$w"
    finish "$name"
  fi
  link "$cache/$name" containerd containerd-shim-runc-v2 ctr
}

# CoreDNS for the real node's cluster DNS (<service>.<namespace>.svc.cluster.local).
build_coredns() {
  local v=$COREDNS_VERSION name="coredns-$COREDNS_VERSION"
  if ! have "$cache/$name" coredns; then
    log "building coredns $v (cold build: about 2 minutes)…"
    begin "$name"
    GOBIN="$out.tmp" go install -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$v" \
      "github.com/coredns/coredns@$v"
    finish "$name"
  fi
  link "$cache/$name" coredns
}

# kube-network-policies (SIG Network's NetworkPolicy enforcer) for the real node. Its only
# change: github.com/google/nftables' `queue` expression is swapped for the x_tables
# NFQUEUE target (dev/node/network-policies/queue_as_xt_target.go says why: this kernel has
# no nft_queue). The cache directory carries that file's digest, so editing it rebuilds.
build_network_policies() {
  local v=$KUBE_NETWORK_POLICIES_VERSION patch="$repo/dev/node/network-policies/queue_as_xt_target.go" name
  name="kube-network-policies-$v-$(sha256sum "$patch" | cut -c1-8)"
  if ! have "$cache/$name" kube-network-policies; then
    log "building kube-network-policies $v (cold build: about 2 minutes)…"
    begin "$name"
    local w="$out.tmp/src" m=sigs.k8s.io/kube-network-policies nft=github.com/google/nftables dir ver
    wrapper "$w"
    (cd "$w" && quiet go get "$m/cmd@$v")
    dir=$(cd "$w" && go list -m -f '{{.Dir}}' "$nft") ver=$(cd "$w" && go list -m -f '{{.Version}}' "$nft")
    # The replacement file is written against this version's API; another one needs a look.
    [[ $ver == "$NFTABLES_VERSION_PATCHED" ]] ||
      { log "kube-network-policies $v uses $nft $ver, the patch is for $NFTABLES_VERSION_PATCHED: review $patch"; return 1; }
    cp -r "$dir" "$w/nftables" && chmod -R u+w "$w/nftables" && cp "$patch" "$w/nftables/expr/queue.go"
    (cd "$w" && go mod edit -replace "$nft=./nftables" &&
      go build -ldflags "-s -w" -o "$out.tmp/kube-network-policies" "$m/cmd")
    rm -rf "$w"
    finish "$name"
  fi
  link "$cache/$name" kube-network-policies
}

# recipe_hash DIR: a digest of our own files a build uses, for its cache directory's name,
# so editing them rebuilds.
recipe_hash() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-8; }

# Traefik v3, the real node's ingress controller (dev/node/ingress/). A wrapper module, as
# its go.mod has `replace` and `exclude` directives, copied from it: Traefik's forks and
# excludes. From v3.7 on it also replaces the nested module
# github.com/traefik/traefik/dynamic/ext with a directory the proxy does not serve; ours
# then points at dev/node/traefik/ext (two empty types; its go.mod says why). Nothing of
# Traefik's own source changes.
build_traefik() {
  local v=$TRAEFIK_VERSION stub="$repo/dev/node/traefik/ext" name
  name="traefik-$v-$(recipe_hash "$stub")"
  if ! have "$cache/$name" traefik; then
    log "building traefik $v (cold build: about 16 minutes of CPU; 47 minutes on a shared 2-core machine)…"
    begin "$name"
    local m=github.com/traefik/traefik/v3 w="$out.tmp/src" mod
    wrapper "$w"
    cp -r "$stub" "$w/ext"
    mod=$(gomod_path "$m@$v")
    {
      echo "require $m $v"
      # From v3.7 on (not in v3.6).
      if grep -qE '^replace github.com/traefik/traefik/dynamic/ext => \./' "$mod"; then
        echo "replace github.com/traefik/traefik/dynamic/ext => ./ext"
      fi
      # Module-to-module replaces, single or in a block (local-path ones have no version).
      sed -nE 's#^(replace |\s+)(\S+( \S+)? => \S+ \S+)\s*$#replace \2#p' "$mod"
      sed -nE 's#^exclude (\S+ \S+)\s*$#exclude \1#p; /^exclude \($/,/^\)$/ s#^\s+(\S+ \S+)\s*$#exclude \1#p' "$mod"
    } >>"$w/go.mod"
    (cd "$w" && quiet go get "$m/cmd/traefik@$v" &&
      go build -ldflags "-s -w -X $m/pkg/version.Version=$v" -o "$out.tmp/traefik" "$m/cmd/traefik")
    rm -rf "$w"
    finish "$name"
  fi
  link "$cache/$name" traefik
}

# cert-manager for the real node (dev/node/ingress/): our own main,
# dev/node/cert-manager/main.go (it says why), in a wrapper module requiring cert-manager's
# root module, which has no replace or exclude directives. The cache directory carries the
# main's digest, so editing it rebuilds.
build_cert_manager() {
  local v=$CERT_MANAGER_VERSION src="$repo/dev/node/cert-manager" name
  name="cert-manager-$v-$(recipe_hash "$src")"
  if ! have "$cache/$name" cert-manager-controller || [[ ! -d $cache/$name/crds ]]; then
    log "building cert-manager-controller $v (cold build: about 6 minutes of CPU)…"
    begin "$name"
    local m=github.com/cert-manager/cert-manager w="$out.tmp/src"
    wrapper "$w"
    cp "$src"/*.go "$w/"
    (cd "$w" && quiet go get "$m@$v" && quiet go mod tidy &&
      go build -ldflags "-s -w -X $m/pkg/util.AppVersion=$v" -o "$out.tmp/cert-manager-controller" .)
    # Its CRDs, as the module ships them (deploy/crds), kept with the binary they belong
    # to: dev/node/ingress/start.sh applies them from here.
    cp -r "$(cd "$w" && go list -m -f '{{.Dir}}' "$m")/deploy/crds" "$out.tmp/crds"
    chmod -R u+w "$out.tmp/crds"
    rm -rf "$w"
    finish "$name"
  fi
  link "$cache/$name" cert-manager-controller
}

# Helm first: chart linting needs only it, so it is usable while the rest still builds.
build_helm
build_kwok
build_etcd
build_kubernetes
if [[ ${MATRIXK8S_REAL_NODE:-0} == 1 || ${1:-} == node ]]; then
  build_kubernetes node
  build_containerd
  build_coredns
  build_network_policies
  build_traefik
  build_cert_manager
fi
log "all binaries linked in $bin"
