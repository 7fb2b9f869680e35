#!/usr/bin/env bash
# The deploy benchmark side by side: an earlier commit of this repository, then this
# checkout, one right after the other on the same machine, so their ratios compare (single
# runs on a shared 2-core machine vary by a third). Both are timed by THIS checkout's
# dev/bench/deploy.py and venv: only the collection (roles, charts, plugins) differs.
#
#   dev/bench/deploy-compare.sh 950a2af               # simulated nodes
#   dev/bench/deploy-compare.sh 950a2af --real-node   # the real node (root)
#
# The earlier commit is cloned into .local/bench/at-<rev>/ with its own cluster; each
# cluster is stopped before the other starts (one real node per machine). Both runs purge
# their namespace. Results: .local/bench/compare-<rev>[-node].json and the two tables.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
rev=${1:?usage: deploy-compare.sh REV [--real-node]}
shift
real_node=0
[[ ${1:-} == --real-node ]] && real_node=1
python="$repo/.venv/bin/python"
[[ -x $python ]] || { echo "[compare] run make venv first" >&2; exit 1; }

old="$repo/.local/bench/at-$rev"
[[ -d $old/.git ]] || git clone -q "$repo" "$old"
git -C "$old" checkout -q --detach "$rev"

# A tree's cluster scripts: dev/cluster since the layout moved them, tools/cluster before.
cluster_dir() { if [[ -d $1/dev/cluster ]]; then echo "$1/dev/cluster"; else echo "$1/tools/cluster"; fi; }

# bench TREE LABEL: start TREE's cluster in the chosen mode, benchmark it, stop it.
bench() {
  local tree=$1 label=$2 dir
  dir=$(cluster_dir "$tree")
  echo "[compare] $label: $(git -C "$tree" log -1 --format='%h %s' | cut -c1-80)" >&2
  "$dir/build.sh"
  MATRIXK8S_REAL_NODE=$real_node "$dir/up.sh"
  local args=()
  ((real_node)) && args=(--real-node)
  MATRIXK8S_BENCH_REPO=$tree "$python" "$here/deploy.py" --runs "${RUNS:-3}" "${args[@]}" \
    | tee "$repo/.local/bench/compare-$label.txt"
  "$dir/down.sh"
}

mkdir -p "$repo/.local/bench"
# Whatever cluster this checkout runs now would hold the real node or the ports: stop it.
"$(cluster_dir "$repo")/down.sh" || true
bench "$old" "before-$rev"
bench "$repo" "after"

suffix=$([[ $real_node == 1 ]] && echo -node || true)
"$python" - "$old/.local/bench/deploy$suffix.json" "$repo/.local/bench/deploy$suffix.json" \
  "$repo/.local/bench/compare-$rev$suffix.json" "$rev" <<'PY'
import json, sys
before, after = (json.load(open(p)) for p in sys.argv[1:3])
out = {"before": {"rev": sys.argv[4], **before}, "after": after}
json.dump(out, open(sys.argv[3], "w"), indent=2)
for name, s in (("before " + sys.argv[4], before), ("after", after)):
    m = s["median_seconds"]
    print(f"{name:<16} nodes={s['nodes']:<9} a={m['a_full_deploy']:6.2f}s b={m['b_second_run']:6.2f}s "
          f"c={m['c_plain_helm']:6.2f}s a/c={s['ratio_a_over_c']:.2f} b/c={s['ratio_b_over_c']:.2f} "
          f"changed(b)={s['b_changed']}")
PY
