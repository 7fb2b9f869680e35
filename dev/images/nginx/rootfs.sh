#!/usr/bin/env bash
# Root filesystem of matrixk8s.local/nginx-unprivileged: Debian bookworm's nginx-light, the
# user nginx with uid/gid 101 (the unprivileged image's ids, which the chart's
# securityContext uses), its default nginx.conf (port 8080, pid in /tmp) and the paths the
# unprivileged image owns by uid 101.
# Usage: rootfs.sh OUT_TAR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../debian.sh
source "$here/../debian.sh"

# Debian's nginx starts by opening its compiled-in /var/log/nginx/error.log, before it
# reads any configuration: those files point at the container's stdout/stderr instead.
debian_rootfs "$1" bookworm "nginx-light" \
  --essential-hook="$(user_hook nginx 101 /nonexistent)" \
  --customize-hook='rm -f "$1"/etc/nginx/sites-enabled/default' \
  --customize-hook="install -m 0644 '$here/nginx.conf' \"\$1\"/etc/nginx/nginx.conf" \
  --customize-hook='mkdir -p "$1"/etc/nginx/conf.d "$1"/usr/share/nginx/html "$1"/var/cache/nginx "$1"/var/log/nginx' \
  --customize-hook='echo "<h1>nginx</h1>" >"$1"/usr/share/nginx/html/index.html' \
  --customize-hook='ln -sf /dev/stderr "$1"/var/log/nginx/error.log && ln -sf /dev/stdout "$1"/var/log/nginx/access.log' \
  --customize-hook='chown -R 101:101 "$1"/etc/nginx/conf.d "$1"/usr/share/nginx/html "$1"/var/cache/nginx "$1"/var/lib/nginx'
