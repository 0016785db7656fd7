#!/usr/bin/env bash
# Finds or makes the envtest control plane (kube-apiserver, etcd, kubectl and
# kube-controller-manager) and prints its directory, for KUBEBUILDER_ASSETS,
# as the only line on stdout. It takes the first of:
#
#   1. KUBEBUILDER_ASSETS, when it names a directory holding all four;
#   2. setup-envtest's store (~/.local/share/kubebuilder-envtest/k8s/
#      VERSION-OS-ARCH), when it holds all four at K8S_VERSION;
#   3. setup-envtest's download of the prebuilt kube-apiserver, etcd and
#      kubectl into that store (the real tool, built through the Go module
#      proxy at SETUP_ENVTEST_VERSION), given DOWNLOAD_TIMEOUT seconds in all;
#      ENVTEST_INDEX_URL overrides where it looks, ENVTEST_DOWNLOAD=0 skips it;
#   4. building from source through the Go module proxy whatever is still
#      missing: all four on a machine that reaches only the proxy (about 10
#      minutes on 2 cores), or just kube-controller-manager, which
#      setup-envtest does not ship, after a download.
#
# Every step says on stderr what it found and why it moves on.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
STORE="${ENVTEST_STORE:-${XDG_DATA_HOME:-$HOME/.local/share}/kubebuilder-envtest}"
ASSETS="$STORE/k8s/${K8S_VERSION}-$(go env GOOS)-$(go env GOARCH)"
WORK="${ENVTEST_BUILD_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kros-operator/envtest-build-${K8S_VERSION}}"
BINARIES=(kube-apiserver kube-controller-manager kubectl etcd)
# The setup-envtest of controller-runtime v0.25, whose go.mod this project's
# follows.
SETUP_ENVTEST_VERSION="${SETUP_ENVTEST_VERSION:-v0.25.1}"
DOWNLOAD_TIMEOUT="${DOWNLOAD_TIMEOUT:-60}"
# Building setup-envtest needs only the module proxy, and happens once.
SETUP_ENVTEST_BUILD_TIMEOUT="${SETUP_ENVTEST_BUILD_TIMEOUT:-300}"
TOOLS="${ENVTEST_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kros-operator/setup-envtest-${SETUP_ENVTEST_VERSION}}"

log() { printf '[setup-envtest] %s\n' "$*" >&2; }

# step NAME CMD...: runs CMD, reporting how long it took.
step() {
  local name=$1 start=$SECONDS
  shift
  log "$name ..."
  "$@" || { local rc=$?; log "$name failed after $((SECONDS - start))s"; return "$rc"; }
  log "$name done in $((SECONDS - start))s"
}

# missing DIR: the binaries DIR lacks, on one line; empty if none.
missing() {
  local bin out=()
  for bin in "${BINARIES[@]}"; do
    [[ -x "$1/$bin" ]] || out+=("$bin")
  done
  echo "${out[*]}"
}

have_all() { [[ -z "$(missing "$ASSETS")" ]]; }

# check_versions: the Kubernetes binaries in ASSETS are K8S_VERSION, and etcd
# runs (a downloaded one is the etcd its envtest release pairs with
# Kubernetes; a built one is the version Kubernetes' go.mod names).
check_versions() {
  local got
  got=$("$ASSETS/kube-apiserver" --version)
  [[ "$got" == "Kubernetes v${K8S_VERSION}" ]] || { log "kube-apiserver reports '$got', want v${K8S_VERSION}"; return 1; }
  got=$("$ASSETS/kube-controller-manager" --version)
  [[ "$got" == "Kubernetes v${K8S_VERSION}" ]] || { log "kube-controller-manager reports '$got', want v${K8S_VERSION}"; return 1; }
  # No `| head` under pipefail: a writer cut off by head dies of SIGPIPE (exit 141).
  got=$("$ASSETS/kubectl" version --client -o json | grep -o '"gitVersion": *"[^"]*"')
  [[ "$got" == *"v${K8S_VERSION}"* ]] || { log "kubectl reports $got, want v${K8S_VERSION}"; return 1; }
  got=$("$ASSETS/etcd" --version) || { log "etcd --version failed"; return 1; }
  got=${got%%$'\n'*}
  log "versions: kubernetes v${K8S_VERSION}, ${got}"
}

# from_env: KUBEBUILDER_ASSETS, if it holds a whole control plane. Its
# versions are the user's choice and are not checked.
from_env() {
  [[ -n "${KUBEBUILDER_ASSETS:-}" ]] || return 1
  local lack
  lack=$(missing "$KUBEBUILDER_ASSETS")
  if [[ -n "$lack" ]]; then
    log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks: $lack; not using it"
    return 1
  fi
  log "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS: it holds ${BINARIES[*]}"
}

# download: setup-envtest (built first if need be, within
# SETUP_ENVTEST_BUILD_TIMEOUT seconds) fetches kube-apiserver, etcd and kubectl
# into the store within DOWNLOAD_TIMEOUT seconds.
download() {
  if [[ "${ENVTEST_DOWNLOAD:-1}" == 0 ]]; then
    log "ENVTEST_DOWNLOAD=0: not trying setup-envtest's download"
    return 1
  fi
  if [[ ! -x "$TOOLS/setup-envtest" ]] &&
    ! step "go install setup-envtest ${SETUP_ENVTEST_VERSION}" env GOBIN="$TOOLS" GOFLAGS= \
      timeout "$SETUP_ENVTEST_BUILD_TIMEOUT" go install "sigs.k8s.io/controller-runtime/tools/setup-envtest@${SETUP_ENVTEST_VERSION}" >&2; then
    log "could not build setup-envtest; building from source"
    return 1
  fi
  log "trying setup-envtest's download (${DOWNLOAD_TIMEOUT}s at most)${ENVTEST_INDEX_URL:+ from $ENVTEST_INDEX_URL}"
  # Into a directory of its own: setup-envtest takes any directory of the
  # version in its store for an installed one, however incomplete.
  local dl="$WORK/download" args got bin start=$SECONDS
  rm -rf "$dl"
  args=(use "$K8S_VERSION" --bin-dir "$dl" -p path)
  [[ -n "${ENVTEST_INDEX_URL:-}" ]] && args+=(--index "$ENVTEST_INDEX_URL")
  if ! got=$(timeout "$DOWNLOAD_TIMEOUT" "$TOOLS/setup-envtest" "${args[@]}"); then
    log "setup-envtest's download failed after $((SECONDS - start))s (no route to its index or release bucket?); building from source"
    return 1
  fi
  mkdir -p "$ASSETS"
  for bin in kube-apiserver etcd kubectl; do
    [[ -x "$ASSETS/$bin" || ! -x "$got/$bin" ]] || mv "$got/$bin" "$ASSETS/$bin"
  done
  rm -rf "$dl"
  log "downloaded kube-apiserver, etcd and kubectl v${K8S_VERSION} in $((SECONDS - start))s"
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
  [[ -x "$ASSETS/kube-apiserver" ]] ||
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
  if from_env; then
    echo "$KUBEBUILDER_ASSETS"
    return
  fi
  if have_all && check_versions 2>/dev/null; then
    log "using the store: control plane v${K8S_VERSION} already in $ASSETS"
    echo "$ASSETS"
    return
  fi
  log "the store has no control plane v${K8S_VERSION} in $ASSETS (missing: $(missing "$ASSETS"); or another version)"
  download || true
  if have_all && check_versions; then
    echo "$ASSETS"
    return
  fi
  local gomod start=$SECONDS
  mkdir -p "$ASSETS"
  log "building from source into $ASSETS: $(missing "$ASSETS") (the whole control plane takes about 10 minutes on 2 cores)"
  gomod=$(kubernetes_gomod)
  [[ -n "$gomod" ]] || { log "could not download k8s.io/kubernetes@v${K8S_VERSION}"; exit 1; }
  # etcd at the version Kubernetes itself is built and tested against.
  ETCD_VERSION=$(awk '$1 == "go.etcd.io/etcd/server/v3" {print $2; exit}' "$gomod")
  step "prepare kubernetes module" write_kubernetes_module "$gomod"
  build_kubernetes
  build_etcd
  check_versions
  log "control plane ready in $((SECONDS - start))s"
  echo "$ASSETS"
}

main "$@"
