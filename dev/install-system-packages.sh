#!/usr/bin/env bash
# Installs the Debian programs the real-server tests (tests/realserver) run:
#   postgresql-15  initdb/postgres/pg_ctl in /usr/lib/postgresql/15/bin
#   nginx-light    /usr/sbin/nginx, which serves the well-known chart's nginx.conf
#   redis-server   /usr/bin/redis-server (7.0, BSD-3-Clause), which Synapse's workers replicate over
# and makes sure a non-C UTF-8 locale exists (the suite's "no C collation" negative case
# initialises a database with it).
#
# Idempotent and fast when everything is there: dpkg is asked first, and `apt-get update`
# runs only when a package is missing. Package scripts are not allowed to start the
# services (a Debian install would otherwise start nginx on :80 and PostgreSQL on :5432):
# the tests start their own processes on loopback ports they pick.
set -euo pipefail

packages=(postgresql-15 nginx-light redis-server)
# Programs the tests call, checked as well as the package state (a half-removed package
# can leave dpkg saying "installed" without them).
programs=(/usr/lib/postgresql/15/bin/initdb /usr/lib/postgresql/15/bin/postgres
  /usr/lib/postgresql/15/bin/pg_ctl /usr/sbin/nginx /usr/bin/redis-server)

log() { printf '[install-system-packages] %s\n' "$*" >&2; }

installed() { dpkg-query -W -f '${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed; }

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
for f in "${programs[@]}"; do
  if [[ ! -x "$f" ]]; then
    log "$f is missing; reinstalling its package"
    case "$f" in
      */nginx) missing+=(nginx-light) ;;
      */redis-server) missing+=(redis-server) ;;
      *) missing+=(postgresql-15) ;;
    esac
  fi
done

# C.UTF-8 ships with libc on bookworm (C.utf8); en_US.UTF-8 needs the locales package.
have_utf8_locale() { locale -a 2>/dev/null | grep -qiE '^(c|en_us)\.utf-?8$'; }

if ((${#missing[@]} == 0)) && have_utf8_locale; then
  exit 0
fi

sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || { log "not root and no sudo: install ${missing[*]} as root"; exit 1; }
  sudo=(sudo)
fi

if ((${#missing[@]} > 0)); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  # policy-rc.d exiting 101 tells invoke-rc.d not to start services; only ours is removed.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    trap '"${sudo[@]}" rm -f "$policy"' EXIT
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ " ${missing[*]} " == *" nginx-light "* ]]; then
    # The package's own nginx (its default site on :80) stays stopped; nothing here uses it.
    "${sudo[@]}" rm -f /etc/nginx/sites-enabled/default
  fi
fi

if ! have_utf8_locale; then
  log "generating the en_US.UTF-8 locale"
  if ! installed locales; then
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends locales >/dev/null
  fi
  "${sudo[@]}" sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' /etc/locale.gen
  "${sudo[@]}" locale-gen >/dev/null
fi

for f in "${programs[@]}"; do
  [[ -x "$f" ]] || { log "$f is still missing after the install"; exit 1; }
done
have_utf8_locale || { log "no UTF-8 locale other than C is available"; exit 1; }
log "ready: $(/usr/lib/postgresql/15/bin/postgres --version), $(/usr/sbin/nginx -v 2>&1), $(/usr/bin/redis-server --version | cut -d" " -f1-3)"
