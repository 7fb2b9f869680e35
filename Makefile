# The two commands a newcomer needs, from a fresh checkout:
#   make demo   build the local cluster and deploy Synapse onto it with playbooks/site.yml
#   make test   install everything (venv, Go-built tools) and run every test tier
# Everything else here is a step of those two. `make help` lists the targets.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PYTEST := $(BIN)/pytest -p no:cacheprovider
# The venv is rebuilt when its pinned requirements change.
VENV_STAMP := $(VENV)/.installed-$(shell sha256sum dev/requirements/test.txt | cut -c1-16)

.PHONY: help demo test venv tools system-packages cluster cluster-down cluster-smoke static sanity \
        unit integration charts playbooks upgrade-test collection awx realserver molecule bench-realserver \
        bench-deploy bench-deploy-node bench-molecule node-cluster node-test federation-test bench-demo

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# The real node runs containers (root, a Linux kernel with bridges and iptables); without
# it the demo still deploys, onto simulated nodes. MATRIXK8S_REAL_NODE=0 forces simulated.
demo: venv tools ## start the local cluster and deploy Synapse onto it (a real node when the machine can run one)
	@if [[ $${MATRIXK8S_REAL_NODE:-} != 0 ]] && dev/node/can-run.sh; then \
	  echo "[demo] mode: REAL NODE: containers run; Synapse will answer on its Service"; \
	  MATRIXK8S_REAL_NODE=1 dev/cluster/up.sh; \
	  $(BIN)/ansible-playbook playbooks/site.yml -i inventories/local -i inventories/local-node; \
	  dev/node/demo-summary.sh; \
	else \
	  echo "[demo] mode: SIMULATED nodes: objects are created and pods report Ready, but no container runs"; \
	  dev/cluster/up.sh; \
	  $(BIN)/ansible-playbook playbooks/site.yml -i inventories/local; \
	fi

# The tiers run one after another: playbooks and realserver share the cluster's namespace.
# MATRIXK8S_REQUIRE_CLUSTER turns "no cluster" into a failure instead of a skip.
# The real-node tier comes last (it turns the cluster's simulated nodes into the real one)
# and runs where the machine can run a real node (root, Linux); elsewhere it says why not.
test: venv tools system-packages ## install what the tests need and run every tier, static to cluster
	MATRIXK8S_REQUIRE_CLUSTER=1 $(MAKE) --no-print-directory static sanity unit integration charts \
	  collection awx cluster-smoke playbooks upgrade-test realserver molecule
	if dev/node/can-run.sh; then $(MAKE) --no-print-directory node-test federation-test; \
	else echo "[test] real-node tiers (node, federation) SKIPPED (reason above)"; fi

venv: $(VENV_STAMP) ## Python virtualenv with the pinned tools (dev/requirements/test.txt)

$(VENV_STAMP): dev/requirements/test.txt
	rm -f $(VENV)/.installed-*
	[ -x $(BIN)/python ] || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r dev/requirements/test.txt
	touch $@

tools: ## helm and the control plane, built from the Go module proxy (cached by version)
	dev/cluster/build.sh

cluster: tools ## start (or confirm) the local Kubernetes control plane
	dev/cluster/up.sh

cluster-down: ## stop the local control plane (and the real node, if one runs)
	dev/cluster/down.sh

cluster-smoke: cluster ## prove the local control plane works (nodes, PVC binding, Pod Security)
	dev/cluster/smoke.sh

system-packages: ## PostgreSQL 15, nginx and Redis from Debian, for the real-server tier (no-op when present)
	dev/install-system-packages.sh

# Tier 1: static checks.
static: venv ## ruff, yamllint, ansible-lint (production profile)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint --profile production

sanity: venv ## ansible-test sanity on the plugins
	dev/ansible-test/sanity.sh

# Tier 2: pure Python.
unit: venv ## pytest: merge filter, signing keys, option list (with property tests)
	$(PYTEST) tests/unit

# Tier 3: real Synapse.
integration: venv ## real Synapse judges the generated keys and merged configs
	$(PYTEST) tests/integration

charts: venv tools system-packages ## helm lint/template of every chart, manifests validated against Kubernetes' schema
	$(PYTEST) tests/charts

playbooks: venv cluster ## syntax, argument specs, preflight failures; site.yml on the local cluster
	$(PYTEST) -n 2 --dist loadfile tests/playbooks

# The previous release (tests/upgrade/PREVIOUS_RELEASE) deployed, then the current site.yml
# over it, in a namespace of its own (matrix-upgrade, deleted afterwards).
upgrade-test: venv cluster ## upgrade from the previous release: same Secrets and volumes, releases current, then changed=0
	$(PYTEST) -rs tests/upgrade

collection: venv ## ansible-galaxy build + install, filters called by FQCN
	$(PYTEST) tests/collection

# AWX: no AWX server and no container registry here, so the execution environment's build
# context is rendered and read, and the playbooks run as AWX would up to the first remote call.
awx: venv ## AWX: EE build context (ansible-builder), awx_configure.yml, surveys vs argument_specs
	$(PYTEST) tests/awx

# Tier 4: real Synapse, PostgreSQL and nginx fed what the roles stored in the cluster.
realserver: venv cluster system-packages ## a Matrix client against what the roles rendered
	MATRIXK8S_REALSERVER_SOURCE=cluster $(PYTEST) tests/realserver

bench-realserver: venv cluster system-packages ## median of 3 real-server runs, Synapse start to /health
	dev/bench/realserver.sh

bench-deploy: venv cluster ## time site.yml (first and second run) against plain helm, median of 3 (purges the namespace)
	dev/bench/deploy.sh

# The same on the real node, where both sides wait for real pods (switches the cluster to it).
bench-deploy-node: venv tools ## bench-deploy on the real node (root; purges the namespace)
	MATRIXK8S_REAL_NODE=1 dev/cluster/up.sh
	dev/bench/deploy.sh --real-node

# Tier 4 again, as the design's harness: Molecule's full sequence on the local cluster.
# molecule runs ansible-config, ansible-playbook and pytest from PATH. Its ephemeral files
# (generated inventory, state) go to $ANSIBLE_HOME/tmp/molecule.<id>.<scenario>, one
# directory per scenario; ANSIBLE_HOME keeps them in the ignored .local/ instead of
# ~/.ansible. (Not MOLECULE_EPHEMERAL_DIRECTORY: that one directory would also serve the
# default scenario Molecule loads first, whose molecule.yml then looks "modified since the
# scenario was created".) The scenario deletes the local cluster at its start and at its
# end (make cluster brings one back in seconds).
MOLECULE := PATH=$(abspath $(BIN)):$$PATH $(BIN)/molecule
molecule: venv tools ## molecule test -s local: create, converge, idempotence, verify (pytest-testinfra), destroy
	ANSIBLE_HOME=$(CURDIR)/.local/molecule/local $(MOLECULE) test -s local

bench-molecule: venv tools ## wall time of `molecule test -s local` (binaries warm)
	dev/bench/molecule.sh

# The real node (needs root): kubelet, containerd+runc, kube-proxy, CoreDNS, offline images.
node-cluster: venv ## the local cluster with a real node instead of simulated ones (root)
	MATRIXK8S_REAL_NODE=1 dev/cluster/up.sh

# Molecule scenario node: create starts the cluster with the real node and smoke-tests it;
# verify is tests/node. Like scenario local, it deletes the cluster at its start and end.
node-test: venv tools ## molecule test -s node: site.yml on the real node, proven by psql, /health, a Matrix client, the image contracts
	ANSIBLE_HOME=$(CURDIR)/.local/molecule/node $(MOLECULE) test -s node

# Molecule scenario federation: two homeservers (inventories/local-federation) on the real
# node, through Traefik with certificates from cert-manager; verify is tests/federation.
federation-test: venv tools ## molecule test -s federation: two homeservers federate over TLS on the real node (rooms, media, E2EE, key rotation)
	ANSIBLE_HOME=$(CURDIR)/.local/molecule/federation $(MOLECULE) test -s federation

bench-demo: venv tools ## cold and warm start time of `make demo` on the real node
	dev/bench/demo.sh
