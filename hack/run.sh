#!/usr/bin/env bash
# The main job: the whole system locally, in the foreground. Starts the local control plane (real
# kube-apiserver, etcd, controller-manager, scheduler and kwok fake nodes, with the Istio and
# prometheus-operator CRDs), the operator, and applies the canary sample; prints the kubectl
# commands to watch and change it and streams the operator's log. Ctrl-C stops everything.
# Does all of its own set-up.
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
exec node hack/run.ts "$@"
