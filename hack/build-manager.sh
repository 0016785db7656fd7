#!/bin/sh
# Builds the manager as it ships in the image: a static linux binary (CGO off),
# -trimpath, no VCS stamp, stripped, with version, commit and date stamped into
# main.version, main.commit and main.date, and no Go build ID: that hashes the
# build's inputs, which differ between a checkout and the Dockerfile's filtered
# context, and would be the only bytes that differ. `make image` (hack/image)
# and the Dockerfile both run this script, so with the same Go version the two
# produce the same bytes (test/image checks it). hack/krewmanifest builds the
# kubectl plugin's release archives with it too (PKG ./cmd/kubectl-krosai,
# and GOOS for each platform).
#
#   GOARCH=arm64 VERSION=0.1.0 COMMIT=<sha> DATE=<RFC 3339> hack/build-manager.sh OUT [PKG]
set -eu
out=${1:?usage: hack/build-manager.sh OUT [PKG]}
pkg=${2:-./cmd}
ldflags="-s -w -buildid= -X main.version=${VERSION:-dev} -X main.commit=${COMMIT:-unknown} -X main.date=${DATE:-unknown}"
CGO_ENABLED=0 GOOS=${GOOS:-linux} GOARCH=${GOARCH:-amd64} GOFLAGS= \
	exec go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$out" "$pkg"
