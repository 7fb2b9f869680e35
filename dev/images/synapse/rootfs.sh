#!/usr/bin/env bash
# Root filesystem of matrixk8s.local/synapse: Debian bookworm's python3 (3.11) and a venv in
# /opt/synapse with matrix-synapse at the chart's appVersion from PyPI, whose `python` is
# first on PATH (the chart runs `python -m synapse.app.homeserver` and a `python -c` init
# container). User synapse, uid/gid 991, owns /data.
#
# PostgreSQL driver: Debian's python3-psycopg2 seen through --system-site-packages. Synapse
# checks for the distribution named "psycopg2" (PyPI's psycopg2-binary does not count) and
# PyPI ships psycopg2 as source only: Debian's build avoids a compiler in the image.
# Wheels: downloaded on the host by the project venv's pip for the image's own Python
# (bookworm's 3.11.2: some current releases need a newer 3.11), binary only, then
# installed in the chroot with --no-index (the chroot does not trust this machine's
# TLS-inspecting proxy, the host does).
# Versions: requirements.txt (pip freeze of a resolved install, every package pinned). To
# re-resolve (a Synapse bump), delete it: the next build resolves and writes it back.
# Usage: rootfs.sh OUT_TAR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
# shellcheck source=../debian.sh
source "$here/../debian.sh"
# shellcheck source=image.env
source "$here/image.env"

pip="$repo/.venv/bin/pip"
[[ -x $pip ]] || { echo "rootfs.sh: $pip missing; run make venv first" >&2; exit 1; }
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT
lock="$here/requirements.txt"
if [[ -f $lock ]]; then
  want=(--no-deps -r "$lock")
else
  want=("matrix-synapse[url-preview]==$SYNAPSE_VERSION")
fi
platforms=()
for p in manylinux_2_36 manylinux_2_34 manylinux_2_28 manylinux_2_17 manylinux2014 manylinux_2_5 linux; do
  platforms+=(--platform "${p}_x86_64")
done
PIP_FIND_LINKS='' "$pip" download --quiet --disable-pip-version-check --only-binary=:all: \
  --python-version 3.11.2 --implementation cp --abi cp311 "${platforms[@]}" -d "$wheels" "${want[@]}"
[[ -f $lock ]] || printf '%s\n' "${want[@]}" >"$wheels/want.txt"
[[ -f $lock ]] && cp "$lock" "$wheels/want.txt"

debian_rootfs "$1" bookworm "python3,python3-venv,python3-psycopg2,ca-certificates" \
  --essential-hook="$(user_hook synapse 991 /data)" \
  --customize-hook='chroot "$1" python3 -m venv --system-site-packages /opt/synapse' \
  --customize-hook="mkdir -p \"\$1\"/tmp/wheels && cp '$wheels'/* \"\$1\"/tmp/wheels/" \
  --customize-hook='chroot "$1" env PIP_FIND_LINKS= /opt/synapse/bin/pip install --quiet --disable-pip-version-check --no-compile --no-index --find-links /tmp/wheels -r /tmp/wheels/want.txt' \
  --customize-hook="[ -f '$lock' ] || chroot \"\$1\" /opt/synapse/bin/pip freeze --local >'$lock'" \
  --customize-hook='chroot "$1" /opt/synapse/bin/python -c "import synapse, psycopg2; print(\"synapse\", synapse.__version__)"' \
  --customize-hook='chroot "$1" /opt/synapse/bin/python -m compileall -q /opt/synapse/lib >/dev/null || true' \
  --customize-hook='rm -rf "$1"/tmp/wheels "$1"/root/.cache' \
  --customize-hook='install -d -o 991 -g 991 -m 0755 "$1"/data'
