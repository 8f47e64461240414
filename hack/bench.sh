#!/usr/bin/env bash
# Runs the benchmarks (figures are printed, never asserted). Does all of its own set-up.
#   hack/bench.sh            both benchmarks with their default sizes
#   hack/bench.sh latency 50 one benchmark, with a size
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
ensure_node
ensure_npm_dependencies
ensure_debian_tools openssl:openssl
ensure_cluster_binaries
cd "$REPO_ROOT"
case "${1:-all}" in
  latency) node bench/weight-latency.ts "${2:-200}" ;;
  scale) node bench/scale.ts "${2:-500}" ;;
  all) node bench/weight-latency.ts 200 && node bench/scale.ts 500 ;;
  *) echo "usage: hack/bench.sh [latency|scale|all] [size]" >&2; exit 2 ;;
esac
