#!/usr/bin/env bash
# The main job: starts the local control plane (real kube-apiserver, etcd, controller-manager,
# scheduler and kwok fake nodes, with the Istio and prometheus-operator CRDs) in the foreground and
# prints how to use kubectl against it. Ctrl-C stops everything. Does all of its own set-up.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"

phase "Node"
ensure_node
phase "npm dependencies"
ensure_npm_dependencies
phase "Debian tools"
ensure_debian_tools openssl:openssl
phase "Control-plane binaries"
ensure_cluster_binaries
print_phase_report
cd "$REPO_ROOT"
exec node hack/cluster/cli.ts run "$@"
