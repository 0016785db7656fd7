# Build the manager image with a container engine. `make image` builds the
# same image without one (hack/image, on an empty base instead of distroless);
# both compile the manager with hack/build-manager.sh, so with the same Go
# version and the same VERSION, COMMIT and DATE the /manager binaries are
# byte-for-byte identical:
#
#   docker build --build-arg VERSION=0.1.0 --build-arg COMMIT=$(git rev-parse HEAD) \
#     --build-arg DATE=$(TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd) .
#
# No container engine runs on the project's development machines, so this file is
# kept correct by inspection. Override BASE_IMAGE to build from another registry,
# e.g. docker.io/library/golang:1.26.8; keep its Go version the one `make image` uses.
ARG BASE_IMAGE=golang:1.26.8
FROM ${BASE_IMAGE} AS builder
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown

WORKDIR /workspace
# Copy the Go Modules manifests
COPY go.mod go.mod
COPY go.sum go.sum
# cache deps before building and copying source so that we don't need to re-download as much
# and so that source changes don't invalidate our downloaded layer
RUN go mod download

# Copy the Go source (relies on .dockerignore to filter)
COPY . .

# GOARCH follows the platform being built (docker buildx --platform), so the
# binary matches the image's platform; hack/build-manager.sh sets CGO off,
# -trimpath, no VCS stamp and the version ldflags.
RUN GOARCH=${TARGETARCH} VERSION=${VERSION} COMMIT=${COMMIT} DATE=${DATE} sh hack/build-manager.sh manager

# Use distroless as minimal base image to package the manager binary
# Refer to https://github.com/GoogleContainerTools/distroless for more details
FROM gcr.io/distroless/static:nonroot
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.source="https://github.com/krosai/kros-operator" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532

ENTRYPOINT ["/manager"]
