#!/usr/bin/env bash
# Run `ansible-test sanity` on the collection.
#
# ansible-test insists on running inside .../ansible_collections/<namespace>/<name>, so
# this copies the files git knows about into such a tree under the cache directory (symlinks
# as symlinks: molecule/node layers inventories through directory links), and
# it downloads a pip bootstrap script from a host we cannot reach, so this puts our
# offline stand-in (get_pip.py beside this script) where it looks for a cached copy.
#
# Usage: dev/ansible-test/sanity.sh [ansible-test sanity arguments, default: plugins/]
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
venv_bin="$repo/.venv/bin"
cache="${MATRIXK8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/matrixk8s}"
tree="$cache/ansible-test/ansible_collections/matrixk8s/synapse"

# The pip version ansible-test asks for, read from its own source so an upgrade follows.
pip_version=$(grep -oP "pip='\K[0-9.]+" "$("$venv_bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py" | head -1)
mkdir -p "$HOME/.ansible/test/cache"
cp "$repo/dev/ansible-test/get_pip.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"

rm -rf "$tree"
mkdir -p "$tree"
cd "$repo"
git ls-files --cached --others --exclude-standard -z \
  | grep -zv '^playbooks/collections/' \
  | xargs -0 cp --no-dereference --parents -t "$tree"

# plugins/modules/k8s_create.py builds on kubernetes.core (its client and auth options):
# ansible-test resolves a collection's dependencies next to it, under the same root.
deps="$cache/ansible-test/ansible_collections/kubernetes"
rm -rf "$deps"
mkdir -p "$deps"
cp -r "$("$venv_bin/python" -c 'import ansible_collections.kubernetes.core as c; print(list(c.__path__)[0])')" "$deps/core"

cd "$tree"
if [ "$#" -eq 0 ]; then
  set -- plugins/
fi
exec "$venv_bin/ansible-test" sanity --python 3.11 --color no "$@"
