#!/usr/bin/env bash
# The local control plane on its own: hack/cluster.sh up | down | status | run [--real-node] (see --help).
# Does its own set-up (Node 24, npm dependencies, binaries) like the README's two commands.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
ensure_node >/dev/null
ensure_npm_dependencies >/dev/null
ensure_debian_tools openssl:openssl
if [[ " $* " == *" --real-node "* ]]; then ensure_cluster_binaries --with-real-node >/dev/null; else ensure_cluster_binaries >/dev/null; fi
cd "$REPO_ROOT"
exec node hack/cluster/cli.ts "$@"
