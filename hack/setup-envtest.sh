#!/usr/bin/env bash
# Builds the envtest control plane (kube-apiserver, etcd, kubectl and
# kube-controller-manager) from source through the Go module proxy.
#
# setup-envtest downloads prebuilt binaries from a release bucket, which
# machines limited to the Go module proxy cannot reach. The binaries land in
# setup-envtest's own store layout, so tools that know that layout find them
# and a warm machine skips the build entirely.
#
# Prints the asset directory (for KUBEBUILDER_ASSETS) as its last line.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
STORE="${ENVTEST_STORE:-${XDG_DATA_HOME:-$HOME/.local/share}/kubebuilder-envtest}"
ASSETS="$STORE/k8s/${K8S_VERSION}-$(go env GOOS)-$(go env GOARCH)"
WORK="${ENVTEST_BUILD_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kros-operator/envtest-build-${K8S_VERSION}}"
BINARIES=(kube-apiserver kube-controller-manager kubectl etcd)

log() { printf '[setup-envtest] %s\n' "$*" >&2; }

# step NAME CMD...: runs CMD, reporting how long it took.
step() {
  local name=$1 start=$SECONDS
  shift
  log "$name ..."
  "$@"
  log "$name done in $((SECONDS - start))s"
}

have_all() {
  local bin
  for bin in "${BINARIES[@]}"; do
    [[ -x "$ASSETS/$bin" ]] || return 1
  done
}

check_versions() {
  local got
  got=$("$ASSETS/kube-apiserver" --version)
  [[ "$got" == "Kubernetes v${K8S_VERSION}" ]] || { log "kube-apiserver reports '$got', want v${K8S_VERSION}"; return 1; }
  got=$("$ASSETS/kube-controller-manager" --version)
  [[ "$got" == "Kubernetes v${K8S_VERSION}" ]] || { log "kube-controller-manager reports '$got', want v${K8S_VERSION}"; return 1; }
  got=$("$ASSETS/kubectl" version --client -o json | grep -o '"gitVersion": *"[^"]*"' | head -1)
  [[ "$got" == *"v${K8S_VERSION}"* ]] || { log "kubectl reports $got, want v${K8S_VERSION}"; return 1; }
  got=$("$ASSETS/etcd" --version | head -1)
  [[ "$got" == "etcd Version: ${ETCD_VERSION#v}" ]] || { log "etcd reports '$got', want ${ETCD_VERSION}"; return 1; }
  log "versions: kubernetes v${K8S_VERSION}, etcd ${ETCD_VERSION}"
}

kubernetes_gomod() {
  GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p'
}

write_kubernetes_module() {
  local gomod=$1 dir="$WORK/kubernetes" staging_version="v0.${K8S_VERSION#1.}"
  mkdir -p "$dir"
  {
    echo "module envtest.local/kubernetes"
    echo
    echo "go $(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/')"
    echo
    echo "require k8s.io/kubernetes v${K8S_VERSION}"
    echo
    # k8s.io/kubernetes points its staging modules at ./staging; outside its
    # own tree they must come from the proxy at the matching v0.x version.
    grep -oE '^[[:space:]]*k8s\.io/[a-z0-9-]+ => \./staging/src/k8s\.io/[a-z0-9-]+' "$gomod" |
      awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
  } >"$dir/go.mod"
  # Importing the three commands keeps go mod tidy from pruning the go.sum
  # entries the other two builds need.
  cat >"$dir/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy)
}

build_kubernetes() {
  local dir="$WORK/kubernetes" minor="${K8S_VERSION#1.}"
  minor="${minor%%.*}"
  local ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=v${K8S_VERSION} -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor}"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  local bin
  log "kube-apiserver takes about 9 minutes to build on 2 cores, kube-controller-manager 2 more"
  for bin in kube-apiserver kube-controller-manager kubectl; do
    [[ -x "$ASSETS/$bin" ]] && continue
    step "go build $bin" \
      bash -c "cd '$dir' && CGO_ENABLED=0 go build -trimpath -ldflags '$ldflags' -o '$ASSETS/$bin.tmp' k8s.io/kubernetes/cmd/$bin && mv '$ASSETS/$bin.tmp' '$ASSETS/$bin'"
  done
}

build_etcd() {
  [[ -x "$ASSETS/etcd" ]] && return 0
  local dir="$WORK/etcd"
  mkdir -p "$dir"
  printf 'module envtest.local/etcd\n\ngo %s\n\nrequire go.etcd.io/etcd/server/v3 %s\n' \
    "$(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/')" "$ETCD_VERSION" >"$dir/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >"$dir/tools.go"
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy)
  step "go build etcd ${ETCD_VERSION}" \
    bash -c "cd '$dir' && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o '$ASSETS/etcd.tmp' go.etcd.io/etcd/server/v3 && mv '$ASSETS/etcd.tmp' '$ASSETS/etcd'"
}

main() {
  mkdir -p "$ASSETS"
  local gomod
  gomod=$(kubernetes_gomod)
  [[ -n "$gomod" ]] || { log "could not download k8s.io/kubernetes@v${K8S_VERSION}"; exit 1; }
  # etcd at the version Kubernetes itself is built and tested against.
  ETCD_VERSION=$(awk '$1 == "go.etcd.io/etcd/server/v3" {print $2; exit}' "$gomod")
  if have_all && check_versions 2>/dev/null; then
    log "control plane v${K8S_VERSION} already in $ASSETS"
  else
    local start=$SECONDS
    log "building control plane v${K8S_VERSION} into $ASSETS (first time only: about 10 minutes on 2 cores)"
    step "prepare kubernetes module" write_kubernetes_module "$gomod"
    build_kubernetes
    build_etcd
    check_versions
    log "control plane ready in $((SECONDS - start))s"
  fi
  echo "$ASSETS"
}

main "$@"
