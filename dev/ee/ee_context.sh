#!/usr/bin/env bash
# Render the AWX execution environment's build context into .local/ee/context:
# the collection as `ansible-galaxy collection build` packs it, then `ansible-builder create`
# from awx/execution-environment.yml. Building the image from it needs a container registry and
# Ansible Galaxy (see docs/awx.md):
#   podman build -t matrixk8s-synapse-ee:0.1.0 .local/ee/context
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=${VENV_BIN:-.venv/bin}
out=.local/ee

# Start clean: a tarball of an older version left behind would be copied into the image too.
rm -rf "$out"
mkdir -p "$out/collection"
"$bin/ansible-galaxy" collection build --output-path "$out/collection" .
"$bin/ansible-builder" create --file awx/execution-environment.yml --context "$out/context" \
  --output-filename Containerfile
