#!/usr/bin/env bash
# Runs every test: lint, type-check, CRD drift check, unit and integration tests (against a real
# local control plane) with coverage. Does all of its own set-up on a fresh machine.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
trap print_phase_report EXIT

phase "Node"
ensure_node
phase "npm dependencies"
ensure_npm_dependencies
phase "Debian tools"
ensure_debian_tools openssl:openssl promtool:prometheus prometheus:prometheus chromium:chromium ruby:ruby ansible-playbook:ansible ansible-lint:ansible-lint \
  podman:podman buildah:buildah runc:runc mmdebstrap:mmdebstrap containerd:containerd
phase "Control-plane binaries"
ensure_cluster_binaries --with-istio-routes --with-helm --with-real-node
phase "Images"
# The three images on a local Node/Debian stand-in (cached); their run tests skip, saying why, where
# podman cannot run containers (it needs root here).
if [[ $(id -u) == 0 ]]; then "$REPO_ROOT/hack/images.sh"; else echo "Images: not built (podman needs root); their run tests will skip"; fi
phase "Lint and type-check"
cd "$REPO_ROOT"
npm run --silent lint
npm run --silent typecheck
ensure_hadolint
hadolint --failure-threshold style Dockerfile
echo "hadolint: Dockerfile passes"
phase "Tests"
export SMSX_TIMINGS_FILE="$(mktemp)"
mocha_log="$(mktemp)"
set +e
npx c8 mocha "$@" 2>&1 | tee "$mocha_log"
tests_status=${PIPESTATUS[0]}
set -e
count() { sed 's/\x1b\[[0-9;]*m//g' "$mocha_log" | grep -oE "^ *[0-9]+ $1" | tail -n1 | grep -oE '[0-9]+' || echo 0; }
if [[ -s "$SMSX_TIMINGS_FILE" ]]; then
  phase_report+="$(printf '  %-28s %8ss' "(control-plane start)" "$(cat "$SMSX_TIMINGS_FILE")")"$'\n'
fi
print_phase_report
trap - EXIT
# The summary, last, in the plain form any CI reads whatever the test runner.
echo "Tests: $(count passing) passed, $(count failing) failed, $(count pending) skipped"
exit "$tests_status"
