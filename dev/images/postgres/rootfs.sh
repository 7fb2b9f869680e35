#!/usr/bin/env bash
# Root filesystem of matrixk8s.local/postgres:17: Debian trixie's postgresql-17, the user
# postgres with uid/gid 999 (the official image's ids, which the chart's securityContext
# uses), the en_US.UTF-8 locale (the official image's LANG) and our docker-entrypoint.sh.
# Usage: rootfs.sh OUT_TAR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../debian.sh
source "$here/../debian.sh"

debian_rootfs "$1" trixie "postgresql-17,locales" \
  --essential-hook="$(user_hook postgres 999 /var/lib/postgresql)" \
  --customize-hook='rm -rf "$1"/etc/postgresql/17/main "$1"/var/lib/postgresql/17' \
  --customize-hook='chroot "$1" localedef -i en_US -c -f UTF-8 en_US.UTF-8' \
  --customize-hook="sed -ri \"s/^#?listen_addresses\\s*=.*/listen_addresses = '*'/\" \"\$1\"/usr/share/postgresql/17/postgresql.conf.sample" \
  --customize-hook="install -m 0755 '$here/docker-entrypoint.sh' \"\$1\"/usr/local/bin/docker-entrypoint.sh" \
  --customize-hook='install -d -o 999 -g 999 -m 2775 "$1"/var/run/postgresql' \
  --customize-hook='install -d -o 999 -g 999 -m 1777 "$1"/var/lib/postgresql/data'
