#!/usr/bin/env bash
# The main job: the whole system locally, in the foreground. Starts the local control plane (real
# kube-apiserver, etcd, controller-manager, scheduler and kwok fake nodes, with the Istio and
# prometheus-operator CRDs), the operator, and applies the canary sample; prints the kubectl
# commands to watch and change it and streams the operator's log. As root the pods run on a real
# node (kubelet, containerd) and the page is served on 127.0.0.1. Ctrl-C stops everything.
# Does all of its own set-up.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"

phase "Node"
ensure_node
phase "npm dependencies"
ensure_npm_dependencies
phase "Debian tools"
ensure_debian_tools openssl:openssl
# The real node (containerd, the project's images) needs root; SMSX_REAL_NODE=0 keeps to kwok nodes.
real_node=0
if [[ $(id -u) == 0 && "${SMSX_REAL_NODE:-1}" != 0 ]]; then real_node=1; fi
if ((real_node)); then
  ensure_debian_tools containerd:containerd podman:podman buildah:buildah runc:runc mmdebstrap:mmdebstrap
fi
phase "Control-plane binaries"
if ((real_node)); then ensure_cluster_binaries --with-real-node; else ensure_cluster_binaries; fi
if ((real_node)); then
  phase "Images"
  "$REPO_ROOT/hack/images.sh"
fi
print_phase_report
cd "$REPO_ROOT"
exec node hack/run.ts "$@"
