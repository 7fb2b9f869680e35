#!/usr/bin/env bash
# Deploy benchmark on the local cluster (make bench-deploy): times (a) site.yml from an
# empty namespace, (b) an immediate second run and (c) the same charts with plain
# `helm upgrade --install --wait`, RUNS times (default 3), and prints the medians, the
# changed count of (b) and the ratios a/c and b/c. What (c) includes and excludes is in
# dev/bench/deploy.py's docstring. It purges the namespace before every repetition and at the
# end: do not run it against a deployment you want to keep.
#
#   dev/bench/deploy.sh            # 3 repetitions
#   RUNS=5 dev/bench/deploy.sh
#   dev/bench/deploy.sh --real-node   # the cluster runs the real node (make bench-deploy-node)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec .venv/bin/python dev/bench/deploy.py --runs "${RUNS:-3}" "$@"
