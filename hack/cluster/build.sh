#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go module proxy and gathers the CRD manifests
# and kwok stages from Go modules. Everything lands in the cache, keyed by version; what is already
# there is skipped. No binary or fetched manifest is ever written into the repository.
# --with-istio-routes and --with-helm also build istio-routes and helm, which only the tests need
# (hack/test.sh passes both); --with-real-node builds what the real node needs (hack/cluster/real-node.ts):
# kubelet, kube-proxy, CoreDNS and the pause binary of its sandbox image.
set -euo pipefail

with_istio_routes=0
with_helm=0
with_real_node=0
for arg in "$@"; do
  case "$arg" in
    --with-istio-routes) with_istio_routes=1 ;;
    --with-helm) with_helm=1 ;;
    --with-real-node) with_real_node=1 ;;
    *) echo "usage: $0 [--with-istio-routes] [--with-helm] [--with-real-node]" >&2; exit 2 ;;
  esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
modules="$here/modules"
cache="${SMSX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sms-experiment}/cluster"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

module_version() { # module_version WRAPPER MODULE: the version the wrapper module pins
  (cd "$modules/$1" && go list -m -f '{{.Version}}' "$2")
}

build_tools() { # build_tools WRAPPER OUTDIR LDFLAGS PACKAGE...
  local wrapper="$1" out="$2" ldflags="$3"
  shift 3
  local names=()
  for pkg in "$@"; do
    # A path ending in a major-version suffix (".../server/v3") builds a binary named after the element before it.
    if [[ "$(basename "$pkg")" =~ ^v[0-9]+$ ]]; then names+=("$(basename "$(dirname "$pkg")")"); else names+=("$(basename "$pkg")"); fi
  done
  local missing=0
  for name in "${names[@]}"; do [[ -x "$out/$name" ]] || missing=1; done
  if ((missing == 0)); then
    echo "  cached: ${names[*]} ($out)"
    return
  fi
  echo "  building: ${names[*]} (a cold build takes minutes)"
  local started=$SECONDS
  rm -rf "$out.partial" && mkdir -p "$out.partial"
  (cd "$modules/$wrapper" && go build -trimpath -ldflags "$ldflags" -o "$out.partial/" "$@")
  rm -rf "$out" && mv "$out.partial" "$out"
  echo "  built in $((SECONDS - started))s: ${names[*]}"
}

module_dir() { # module_dir WRAPPER MODULE: the read-only source folder of a pinned module
  (cd "$modules/$1" && go mod download -json "$2" | sed -n 's/^\s*"Dir": "\(.*\)",\?$/\1/p')
}

k8s_version="$(module_version kubernetes k8s.io/kubernetes)"
k8s_minor="$(echo "$k8s_version" | cut -d. -f2)"
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor -X $pkg.gitTreeState=clean"
done
build_tools kubernetes "$cache/bin/kubernetes-$k8s_version" "$k8s_ldflags" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl

etcd_version="$(module_version etcd go.etcd.io/etcd/server/v3)"
etcd_out="$cache/bin/etcd-$etcd_version"
if [[ -x "$etcd_out/etcd" ]]; then
  echo "  cached: etcd ($etcd_out)"
else
  build_tools etcd "$etcd_out" "-s -w" go.etcd.io/etcd/server/v3
  # Go names a binary after its import path minus the major-version suffix ("server").
  mv "$etcd_out/server" "$etcd_out/etcd"
fi

kwok_version="$(module_version kwok sigs.k8s.io/kwok)"
build_tools kwok "$cache/bin/kwok-$kwok_version" "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$kwok_version" sigs.k8s.io/kwok/cmd/kwok

istio_version="$(module_version istioctl istio.io/istio)"
build_tools istioctl "$cache/bin/istioctl-$istio_version" "-s -w" istio.io/istio/istioctl/cmd/istioctl

# istio-routes: Istio's xDS translation of rendered objects (test/support/istio-routes.ts), on the
# same istio.io/istio pin as istioctl. Keyed by that pin and the wrapper module's content, so an edit
# of its source rebuilds it.
istio_line="$(cat "$(module_dir istio-routes istio.io/istio)/VERSION")"
routes_key="$(cd "$modules/istio-routes" && cat go.mod go.sum main.go | sha256sum | cut -c1-12)"
routes_version="$(module_version istio-routes istio.io/istio)"
if [[ "$routes_version" != "$istio_version" ]]; then
  echo "error: istio-routes pins istio.io/istio $routes_version, istioctl $istio_version: one Istio for both" >&2
  exit 1
fi
routes_out="$cache/bin/istio-routes-$routes_version-$routes_key"
if ((with_istio_routes == 1)); then
  build_tools istio-routes "$routes_out" "-s -w -X main.istioReleaseLine=$istio_line" sms-experiment.local/cluster/istio-routes
fi
# Recorded whenever it is in the cache, so a later run without the flag keeps it findable.
routes_entry=""
if [[ -x "$routes_out/istio-routes" ]]; then routes_entry="\"istioRoutes\": \"$routes_out/istio-routes\","; fi

# helm: lints and renders charts/ in the tests. Built after kubectl: both are on k8s.io/* v0.37, so
# most of helm's packages come out of the Go build cache.
helm_version="$(module_version helm helm.sh/helm/v4)"
helm_out="$cache/bin/helm-$helm_version"
if ((with_helm == 1)); then
  build_tools helm "$helm_out" "-s -w -X helm.sh/helm/v4/internal/version.version=$helm_version -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
    helm.sh/helm/v4/cmd/helm
fi
helm_entry=""
if [[ -x "$helm_out/helm" ]]; then helm_entry="\"helm\": \"$helm_out/helm\","; fi

# The real node: kubelet and kube-proxy from the same Kubernetes wrapper, built after the control
# plane so that the packages they share come out of the Go build cache; CoreDNS with the plugins the
# node's cluster DNS uses (keyed by its wrapper's content, like istio-routes); the pause binary of the
# sandbox image, a static C program (keyed by its source).
node_out="$cache/bin/kubernetes-node-$k8s_version"
coredns_version="$(module_version coredns github.com/coredns/coredns)"
coredns_key="$(cd "$modules/coredns" && cat go.mod go.sum main.go | sha256sum | cut -c1-12)"
coredns_out="$cache/bin/coredns-$coredns_version-$coredns_key"
pause_key="$(sha256sum "$here/pause/pause.c" | cut -c1-12)"
pause_out="$cache/bin/pause-$pause_key"
if ((with_real_node == 1)); then
  build_tools kubernetes "$node_out" "$k8s_ldflags" k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
  build_tools coredns "$coredns_out" "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$coredns_version" sms-experiment.local/cluster/coredns
  if [[ -x "$pause_out/pause" ]]; then
    echo "  cached: pause ($pause_out)"
  else
    command -v cc >/dev/null 2>&1 || { echo "error: a C compiler (cc) is needed for the pause binary" >&2; exit 1; }
    rm -rf "$pause_out.partial" && mkdir -p "$pause_out.partial"
    cc -static -O2 -s -o "$pause_out.partial/pause" "$here/pause/pause.c"
    rm -rf "$pause_out" && mv "$pause_out.partial" "$pause_out"
    echo "  built: pause ($pause_out)"
  fi
fi
node_entry=""
if [[ -x "$node_out/kubelet" && -x "$node_out/kube-proxy" && -x "$coredns_out/coredns" && -x "$pause_out/pause" ]]; then
  node_entry="\"realNode\": {\"kubelet\": \"$node_out/kubelet\", \"kubeProxy\": \"$node_out/kube-proxy\", \"coredns\": \"$coredns_out/coredns\", \"pause\": \"$pause_out/pause\"},"
fi

# CRD manifests and kwok stages, copied out of the module cache (its files are read-only).
istio_api_version="$(module_version istioctl istio.io/api)"
promop_version="$(cat "$modules/crds/prometheus-operator.version")"
assets="$cache/assets/istio-api-$istio_api_version+prometheus-operator-$promop_version+kwok-$kwok_version"
if [[ -f "$assets/.complete" ]]; then
  echo "  cached: CRD manifests and kwok stages ($assets)"
else
  echo "  gathering: Istio CRDs (istio.io/api $istio_api_version), prometheus-operator CRDs ($promop_version), kwok stages"
  rm -rf "$assets" && mkdir -p "$assets/crds" "$assets/kwok"
  istio_api_dir="$(module_dir istioctl istio.io/api)"
  install -m 0644 "$istio_api_dir/kubernetes/customresourcedefinitions.gen.yaml" "$assets/crds/istio.yaml"
  promop_dir="$(cd "$(mktemp -d)" && go mod download -json "github.com/prometheus-operator/prometheus-operator@$promop_version" | sed -n 's/^\s*"Dir": "\(.*\)",\?$/\1/p')"
  for file in "$promop_dir"/example/prometheus-operator-crd/monitoring.coreos.com_*.yaml; do
    install -m 0644 "$file" "$assets/crds/prometheus-operator-$(basename "$file")"
  done
  kwok_dir="$(module_dir kwok sigs.k8s.io/kwok)"
  stages=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
          pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml)
  for stage in "${stages[@]}"; do
    printf -- '---\n' >> "$assets/kwok/stages.yaml"
    cat "$kwok_dir/kustomize/stage/$stage" >> "$assets/kwok/stages.yaml"
  done
  touch "$assets/.complete"
fi

# The manifest the TypeScript side reads to find everything.
mkdir -p "$cache"
cat > "$cache/toolchain.json.partial" <<JSON
{
  "kubernetesVersion": "$k8s_version",
  "kubeApiserver": "$cache/bin/kubernetes-$k8s_version/kube-apiserver",
  "kubeControllerManager": "$cache/bin/kubernetes-$k8s_version/kube-controller-manager",
  "kubeScheduler": "$cache/bin/kubernetes-$k8s_version/kube-scheduler",
  "kubectl": "$cache/bin/kubernetes-$k8s_version/kubectl",
  "etcd": "$etcd_out/etcd",
  "kwok": "$cache/bin/kwok-$kwok_version/kwok",
  "istioctl": "$cache/bin/istioctl-$istio_version/istioctl",
  "istioVersion": "$istio_line ($routes_version)",
  $routes_entry
  $helm_entry
  $node_entry
  "crdDir": "$assets/crds",
  "kwokStages": "$assets/kwok/stages.yaml"
}
JSON
mv "$cache/toolchain.json.partial" "$cache/toolchain.json"
echo "  toolchain: $cache/toolchain.json"
