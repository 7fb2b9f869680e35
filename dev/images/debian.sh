# Shared by dev/images/*/rootfs.sh (sourced): mmdebstrap with the options every image wants.
# shellcheck shell=bash
#
# debian_rootfs OUT_TAR SUITE PACKAGES [mmdebstrap options...]
# "essential" variant (no apt, no init) plus PACKAGES; no recommends; no docs, man pages
# or translations (nothing in a container reads them). Debian versions are the suite's
# current ones on deb.debian.org: the suite is the pin, as for a FROM debian:<suite> image.
debian_rootfs() {
  local out=$1 suite=$2 packages=$3
  shift 3
  command -v mmdebstrap >/dev/null || { echo "mmdebstrap missing: dev/node/install-packages.sh" >&2; return 1; }
  mmdebstrap --quiet --variant=essential --include="$packages" \
    --aptopt='Apt::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
    "$@" "$suite" "$out" http://deb.debian.org/debian
}

# user_hook NAME ID HOME: an mmdebstrap hook that adds a system user and group of the same id
# (the essential variant has no useradd). Used as --essential-hook, so the user exists
# before a package's postinst would create it with an id of its own choosing.
user_hook() {
  local name=$1 id=$2 home=$3
  printf '%s' "echo '$name:x:$id:' >>\"\$1/etc/group\" && echo '$name:x:$id:$id::$home:/usr/sbin/nologin' >>\"\$1/etc/passwd\" && echo '$name:!:19000::::::' >>\"\$1/etc/shadow\""
}
