#!/usr/bin/env bash
# Runs the benchmarks (figures are printed, never asserted). Does all of its own set-up.
#   hack/bench.sh                 every benchmark with its default size
#   hack/bench.sh latency 50      one benchmark, with its size argument(s)
# Operator: latency [edits] [experiments present], scale [experiments] (both on the local control
# plane; with experiments present and in scale, the operator runs in a memory cgroup: needs root).
# Model service: model [seconds] (in process), model-http [seconds] [connections] (autocannon).
# App: app [seconds] [connections] (autocannon against app + model, cache hits and misses).
# Feature selection for the model: features [seeds] (cross-validation, slow).
# Statistics: analysis-sim [streams] [requests/minute] [polls] [k] (the judge against Flagger's rule
# on simulated streams), analysis-judge [experiments] [snapshots] (speed of npm run analysis:judge),
# progression-sim [streams] [horizon minutes] (whole canary runs: the progression rule against Flagger's).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
ensure_node
ensure_npm_dependencies
cd "$REPO_ROOT"
operator_setup() {
  ensure_debian_tools openssl:openssl
  ensure_cluster_binaries
  cd "$REPO_ROOT"
}
what="${1:-all}"
shift || true
case "$what" in
  latency) operator_setup; node bench/weight-latency.ts "${1:-200}" "${2:-0}" ;;
  scale) operator_setup; node bench/scale.ts "${1:-500}" ;;
  model) node bench/model-inference.ts "$@" ;;
  model-http) node bench/model-http.ts "$@" ;;
  app) node bench/app-load.ts "$@" ;;
  features) node bench/model-features.ts "$@" ;;
  analysis-sim) node bench/analysis-sim.ts "$@" ;;
  analysis-judge) node bench/analysis-judge.ts "$@" ;;
  progression-sim) node bench/progression-sim.ts "$@" ;;
  all)
    node bench/model-inference.ts
    node bench/model-http.ts
    node bench/app-load.ts
    node bench/analysis-sim.ts
    node bench/analysis-judge.ts
    node bench/progression-sim.ts
    operator_setup
    node bench/weight-latency.ts 200
    node bench/scale.ts 500
    ;;
  *) echo "usage: hack/bench.sh [latency|scale|model|model-http|app|features|analysis-sim|analysis-judge|progression-sim|all] [size...]" >&2; exit 2 ;;
esac
