# Image URL to use all building/pushing image targets, and the manager image in
# dist/install.yaml (build-installer) and deploy.
IMG ?= ghcr.io/krosai/kros-operator:latest
# YEAR defines the year value used for substituting the YEAR placeholder in the boilerplate header.
YEAR ?= $(shell date +%Y)

# Get the currently used golang install path (in GOPATH/bin, unless GOBIN is set)
ifeq (,$(shell go env GOBIN))
GOBIN=$(shell go env GOPATH)/bin
else
GOBIN=$(shell go env GOBIN)
endif

# CONTAINER_TOOL defines the container tool to be used for building images.
# Be aware that the target commands are only tested with Docker which is
# scaffolded by default. However, you might want to replace it to use other
# tools. (i.e. podman)
CONTAINER_TOOL ?= docker

# Setting SHELL to bash allows bash commands to be executed by recipes.
# Options are set to exit when a recipe line exits non-zero or a piped command fails.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

# The help target prints out all targets with their descriptions organized
# beneath their categories. The categories are represented by '##@' and the
# target descriptions by '##'. The awk command is responsible for reading the
# entire set of makefiles included in this invocation, looking for lines of the
# file as xyz: ## something, and then pretty-format the target and help. Then,
# if there's a line with ##@ something, that gets pretty-printed as a category.
# More info on the usage of ANSI control characters for terminal formatting:
# https://en.wikipedia.org/wiki/ANSI_escape_code#SGR_parameters
# More info on the awk command:
# http://linuxcommand.org/lc3_adv_awk.php

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-15s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the ClusterRole and the CRD (config/, and its copies in the Helm chart and pkg/crds).
	"$(CONTROLLER_GEN)" rbac:roleName=manager-role crd webhook paths="./..." output:crd:artifacts:config=config/crd/bases
	@rm -f dist/chart/files/crds/*.yaml && cp config/crd/bases/*.yaml dist/chart/files/crds/
	@rm -f pkg/crds/*.yaml && cp config/crd/bases/*.yaml pkg/crds/
	go run ./hack/apidocs

.PHONY: generate
generate: controller-gen ## Generate code containing DeepCopy, DeepCopyInto, and DeepCopyObject method implementations.
	"$(CONTROLLER_GEN)" object:headerFile="hack/boilerplate.go.txt",year=$(YEAR) paths="./..."

# EXAMPLES are Go modules of their own (a user's module, with a replace to
# this one): ./... does not reach them, so each target that should names them.
EXAMPLES ?= examples/envtest

.PHONY: fmt
fmt: ## Run go fmt against code.
	go fmt ./...
	@for m in $(EXAMPLES); do (cd $$m && go fmt ./...); done

.PHONY: vet
vet: ## Run go vet against code.
	go vet ./...
	@for m in $(EXAMPLES); do (cd $$m && go vet ./...); done

# KUBEBUILDER_ASSETS comes from hack/setup-envtest.sh: KUBEBUILDER_ASSETS itself
# if it holds a whole control plane, else setup-envtest's store, else
# setup-envtest's download (60 s at most; kube-controller-manager, which it does
# not ship, is then built from source), else a build from source through the Go
# module proxy (about 10 minutes on 2 cores, on machines that reach only the
# proxy). It says on stderr which it took and why.
ENVTEST_K8S_VERSION ?= 1.37.2
GO_TEST_FLAGS ?= -race
# An execution count, not a duration: with a duration Go 1.26's fuzz
# coordinator can report its own deadline as a failure on a loaded machine
# (golang/go#75804, fixed in Go 1.27). 80000x is about 10 s here.
FUZZ_TIME ?= 80000x

.PHONY: envtest
envtest: ## Find, download or build (first time) the local control plane: kube-apiserver, etcd, kubectl, kube-controller-manager.
	@K8S_VERSION=$(ENVTEST_K8S_VERSION) hack/setup-envtest.sh >/dev/null

.PHONY: demo
demo: build envtest ## Show the operator at work: control plane, simulator, manager, samples (KEEP=1 leaves it running).
	KUBEBUILDER_ASSETS="$$(K8S_VERSION=$(ENVTEST_K8S_VERSION) hack/setup-envtest.sh 2>/dev/null)" \
		go run ./hack/demo $(if $(KEEP),--keep)

.PHONY: test
test: manifests generate fmt vet envtest image promtool ## Run the unit and envtest suites (race detector on; the image's and the chart's tests too, and examples/), then a short fuzz run.
	KUBEBUILDER_ASSETS="$$(K8S_VERSION=$(ENVTEST_K8S_VERSION) hack/setup-envtest.sh 2>/dev/null)" PROMTOOL="$(PROMTOOL)" \
		go test $(GO_TEST_FLAGS) ./... -coverprofile cover.out
	@$(MAKE) --no-print-directory test-examples
	@$(MAKE) --no-print-directory fuzz

.PHONY: test-examples
test-examples: envtest ## Run the example modules' suites (examples/), which use only the public packages.
	@for m in $(EXAMPLES); do \
		echo "go test $$m"; \
		(cd $$m && KUBEBUILDER_ASSETS="$$(K8S_VERSION=$(ENVTEST_K8S_VERSION) $(CURDIR)/hack/setup-envtest.sh 2>/dev/null)" \
			go test $(GO_TEST_FLAGS) ./...) || exit 1; \
	done

.PHONY: test-e2e
test-e2e: build envtest ## Run the real binaries under their generated RBAC: samples, a SIGKILL mid-create, leader election, the kubectl plugin.
	KUBEBUILDER_ASSETS="$$(K8S_VERSION=$(ENVTEST_K8S_VERSION) hack/setup-envtest.sh 2>/dev/null)" \
		go test -tags e2e ./test/e2e/ -count=1 -timeout 20m -v -ginkgo.v

# SOAK_SEED empty: a time-based seed, printed at the start and on failure.
SOAK_SEED ?=
SOAK_DURATION ?= 5m

.PHONY: soak
soak: build envtest ## Run a seeded chaos soak of the real binaries (SOAK_SEED, SOAK_DURATION), then check the guarantees.
	KUBEBUILDER_ASSETS="$$(K8S_VERSION=$(ENVTEST_K8S_VERSION) hack/setup-envtest.sh 2>/dev/null)" \
		SOAK_SEED="$(SOAK_SEED)" SOAK_DURATION="$(SOAK_DURATION)" \
		go test -tags soak ./test/soak/ -run TestSoak -count=1 -timeout 30m -v

BENCH_N ?= 1000
BENCH_MEMORY_N ?= 10000
BENCH_ARGS ?=

.PHONY: bench
bench: build envtest ## Measure convergence, API calls, Kubernetes writes and memory on the real binaries (BENCH_N, BENCH_MEMORY_N, BENCH_ARGS).
	KUBEBUILDER_ASSETS="$$(K8S_VERSION=$(ENVTEST_K8S_VERSION) hack/setup-envtest.sh 2>/dev/null)" \
		go run ./test/bench -n $(BENCH_N) -memory-n $(BENCH_MEMORY_N) -json bench.json $(BENCH_ARGS)

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZ_TIME executions (or a duration, such as 1m).
	@for pkg in $$(go list ./...); do \
		for target in $$(go test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$target ($(FUZZ_TIME))"; \
			go test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZ_TIME) $$pkg || exit 1; \
		done; \
	done

.PHONY: verify
verify: manifests generate fmt ## Regenerate everything, tidy go.mod (the examples' too), and fail if the tree changed.
	go mod tidy
	@for m in $(EXAMPLES); do (cd $$m && go mod tidy); done
	@if [ -n "$$(git status --porcelain)" ]; then \
		echo "verify: the tree is not clean after regeneration; commit these changes:"; \
		git status --porcelain; git --no-pager diff --stat; exit 1; \
	fi

.PHONY: lint
lint: golangci-lint ## Run golangci-lint linter (on the examples too)
	"$(GOLANGCI_LINT)" run
	@for m in $(EXAMPLES); do (cd $$m && "$(GOLANGCI_LINT)" run --config $(CURDIR)/.golangci.yml); done

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint linter and perform fixes
	"$(GOLANGCI_LINT)" run --fix

.PHONY: lint-config
lint-config: golangci-lint ## Verify golangci-lint linter configuration
	"$(GOLANGCI_LINT)" config verify

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager, the KrosAI simulator and the kubectl plugin (bin/kubectl-krosai).
	go build -o bin/manager ./cmd
	go build -o bin/krosai-sim ./cmd/krosai-sim
	go build -o bin/kubectl-krosai ./cmd/kubectl-krosai

.PHONY: run
run: manifests generate fmt vet ## Run the manager from your host against ~/.kube/config; flags in ARGS.
	go run ./cmd $(ARGS)

# The image's version, commit and date: main.version, main.commit, main.date
# and the OCI labels. DATE is the commit's, not the clock's, so that building
# one commit twice gives the same image digest.
VERSION ?= $(patsubst v%,%,$(shell git describe --tags --always --dirty 2>/dev/null || echo dev))
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE ?= $(shell TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd 2>/dev/null)
# The repository the image is tagged with in the docker load tarballs.
IMAGE_REPO ?= ghcr.io/krosai/kros-operator
IMAGE_PLATFORMS ?= linux/amd64,linux/arm64

.PHONY: image
image: ## Build the image for IMAGE_PLATFORMS without a container engine: dist/image (OCI layout), dist/kros-operator-linux-*.tar (docker load).
	go run ./hack/image build -out dist -name $(IMAGE_REPO) -version $(VERSION) -commit $(COMMIT) \
		$(if $(DATE),-date $(DATE)) -platforms $(IMAGE_PLATFORMS)

.PHONY: image-push
image-push: ## Push the image make image built (dist/image, all platforms) to IMG; credentials from ~/.docker/config.json.
	go run ./hack/image push -out dist -ref $(IMG)

# If you wish to build the manager image targeting other platforms you can use the --platform flag.
# (i.e. docker build --platform linux/arm64). However, you must enable docker buildKit for it.
# More info: https://docs.docker.com/develop/develop-images/build_enhancements/
# Override BASE_IMAGE to build from another registry, e.g.
# make docker-build IMG=<img> BASE_IMAGE=docker.io/library/golang:1.26
.PHONY: docker-build
docker-build: ## Build docker image with the manager.
	$(CONTAINER_TOOL) build $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) \
		--build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg DATE=$(DATE) -t ${IMG} .

.PHONY: docker-push
docker-push: ## Push docker image with the manager.
	$(CONTAINER_TOOL) push ${IMG}

# PLATFORMS defines the target platforms for the manager image be built to provide support to multiple
# architectures. (i.e. make docker-buildx IMG=myregistry/mypoperator:0.0.1). To use this option you need to:
# - be able to use docker buildx. More info: https://docs.docker.com/build/buildx/
# - have enabled BuildKit. More info: https://docs.docker.com/develop/develop-images/build_enhancements/
# - be able to push the image to your registry (i.e. if you do not set a valid value via IMG=<myregistry/image:<tag>> then the export will fail)
# To adequately provide solutions that are compatible with multiple platforms, you should consider using this option.
PLATFORMS ?= linux/arm64,linux/amd64,linux/s390x,linux/ppc64le
.PHONY: docker-buildx
docker-buildx: ## Build and push docker image for the manager for cross-platform support
	# copy existing Dockerfile and insert --platform=${BUILDPLATFORM} into Dockerfile.cross, and preserve the original Dockerfile
	sed -e '1 s/\(^FROM\)/FROM --platform=\$$\{BUILDPLATFORM\}/; t' -e ' 1,// s//FROM --platform=\$$\{BUILDPLATFORM\}/' Dockerfile > Dockerfile.cross
	- $(CONTAINER_TOOL) buildx create --name main-builder
	$(CONTAINER_TOOL) buildx use main-builder
	- $(CONTAINER_TOOL) buildx build --push --platform=$(PLATFORMS) $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) --tag ${IMG} -f Dockerfile.cross .
	- $(CONTAINER_TOOL) buildx rm main-builder
	rm Dockerfile.cross

# kustomize-build-default prints config/default with the manager image set to
# IMG. `kustomize edit set image` edits a kustomization in place, so it runs on a
# temporary copy of config/: the tree stays clean whatever IMG is.
define kustomize-build-default
tmp="$$(mktemp -d)" && trap 'rm -rf "$$tmp"' EXIT && cp -R config "$$tmp/" && \
(cd "$$tmp/config/manager" && "$(KUSTOMIZE)" edit set image controller=$(IMG)) && \
"$(KUSTOMIZE)" build "$$tmp/config/default"
endef

.PHONY: build-installer
build-installer: manifests generate kustomize ## Write dist/install.yaml (CRD, RBAC, Deployment) with the image IMG.
	@mkdir -p dist
	@$(kustomize-build-default) > dist/install.yaml
	@echo "wrote dist/install.yaml (image $(IMG))"

##@ Release

# The kubectl plugin's release archives, for krew: one
# kubectl-krosai_VERSION_OS_ARCH.tar.gz per platform (the binary, built as the
# manager is, and LICENSE), written reproducibly by hack/krewmanifest, and
# dist/krosai.yaml, plugins/krosai.yaml rendered with their sha256.
PLUGIN_PLATFORMS ?= linux/amd64,linux/arm64,darwin/amd64,darwin/arm64,windows/amd64

.PHONY: plugin-archives
plugin-archives: ## Write the kubectl plugin's archives for PLUGIN_PLATFORMS and their krew manifest (dist/krosai.yaml) for VERSION.
	@mkdir -p dist
	rm -f dist/kubectl-krosai_*.tar.gz dist/krosai.yaml
	go run ./hack/krewmanifest -version $(VERSION) -commit $(COMMIT) $(if $(DATE),-date $(DATE)) \
		-platforms $(PLUGIN_PLATFORMS) -template plugins/krosai.yaml -license LICENSE -out dist

# The release bundle in dist/: the image (OCI layout, a tar of it, and docker
# load tarballs), install.yaml with the image pinned to the index digest, the
# chart package, the kubectl plugin's archives and krew manifest, a CycloneDX
# SBOM of each binary (*.cdx.json), the SLSA provenance of all of it, and
# sha256sums.txt over all of them. With COSIGN_KEY (a cosign private key; its
# password in the environment as COSIGN_PASSWORD) it also signs, offline and
# with no transparency log: the image index, with the SBOMs and provenance
# attached as attestations (in dist/image, as cosign save lays them out), the
# provenance (*.intoto.jsonl), and every file (FILE.sig). README.md "Verify a
# release" gives the user's commands. CHANGELOG.md needs a "## [VERSION]"
# section first (written by hand).
COSIGN_KEY ?=
# The public key verify-release checks with: COSIGN_KEY's .pub beside it.
COSIGN_PUB ?= $(if $(COSIGN_KEY),$(basename $(COSIGN_KEY)).pub,cosign.pub)
# Who ran the build and which run, for the provenance (the CI run's URL and id there).
BUILDER_ID ?=
BUILD_INVOCATION_ID ?=
RELEASE_TOOL = go run ./hack/release

.PHONY: release
release: manifests generate kustomize ## Write the release bundle of VERSION=x.y.z to dist/ (see CHANGELOG.md first); signed with COSIGN_KEY if set.
	@[[ "$(VERSION)" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$$ ]] || { echo "release: set VERSION=x.y.z (got $(VERSION))"; exit 1; }
	@grep -q '^## \[$(VERSION)\]' CHANGELOG.md || { echo "release: CHANGELOG.md has no section \"## [$(VERSION)]\""; exit 1; }
	@[[ -z "$(COSIGN_KEY)" || -f "$(COSIGN_KEY)" ]] || { echo "release: COSIGN_KEY $(COSIGN_KEY) is not a file"; exit 1; }
	rm -rf dist/image dist/image.digest dist/*.tar dist/*.tgz dist/install.yaml dist/sha256sums.txt \
		dist/kubectl-krosai_*.tar.gz dist/krosai.yaml dist/*.cdx.json dist/*.provenance.json dist/*.intoto.jsonl dist/*.sig
	$(MAKE) --no-print-directory image VERSION=$(VERSION) COMMIT=$(COMMIT) DATE=$(DATE)
	$(MAKE) --no-print-directory build-installer IMG=$(IMAGE_REPO)@$$(cat dist/image.digest)
	go run ./hack/chartpkg -chart dist/chart -version $(VERSION) $(if $(DATE),-date $(DATE)) -out dist
	$(MAKE) --no-print-directory plugin-archives VERSION=$(VERSION) COMMIT=$(COMMIT) DATE=$(DATE)
	$(RELEASE_TOOL) sbom -dir dist -version $(VERSION) $(if $(DATE),-date $(DATE))
	$(RELEASE_TOOL) provenance -dir dist -version $(VERSION) -commit $(COMMIT) -image $(IMAGE_REPO) \
		$(if $(BUILDER_ID),-builder-id $(BUILDER_ID)) $(if $(BUILD_INVOCATION_ID),-invocation-id $(BUILD_INVOCATION_ID)) \
		dist/install.yaml dist/kros-operator-$(VERSION).tgz dist/kros-operator-linux-*.tar \
		dist/kubectl-krosai_$(VERSION)_*.tar.gz dist/krosai.yaml dist/*.cdx.json
	$(if $(COSIGN_KEY),$(RELEASE_TOOL) sign -dir dist -version $(VERSION) -image $(IMAGE_REPO) -key $(COSIGN_KEY))
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf dist/kros-operator-$(VERSION)-oci-layout.tar -C dist/image .
	cd dist && sha256sum install.yaml kros-operator-$(VERSION).tgz kros-operator-$(VERSION)-oci-layout.tar \
		kros-operator-linux-*.tar kubectl-krosai_$(VERSION)_*.tar.gz krosai.yaml *.cdx.json \
		kros-operator-$(VERSION).provenance.json $(if $(COSIGN_KEY),kros-operator-$(VERSION).intoto.jsonl) > sha256sums.txt
	$(if $(COSIGN_KEY),$(RELEASE_TOOL) sign-files -dir dist -key $(COSIGN_KEY))
	@echo "release $(VERSION): image $(IMAGE_REPO)@$$(cat dist/image.digest)"; cat dist/sha256sums.txt

.PHONY: verify-release
verify-release: ## Verify the signed bundle in dist/ with COSIGN_PUB: checksums, signatures, the image's SBOM and provenance attestations.
	$(RELEASE_TOOL) verify -dir dist -key $(COSIGN_PUB)

.PHONY: release-key
release-key: ## Write a cosign key pair, cosign.key (encrypted with COSIGN_PASSWORD) and cosign.pub, as cosign generate-key-pair does.
	$(RELEASE_TOOL) generate-key -out cosign

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests kustomize ## Install CRDs into the K8s cluster specified in ~/.kube/config.
	@out="$$( "$(KUSTOMIZE)" build config/crd 2>/dev/null || true )"; \
	if [ -n "$$out" ]; then echo "$$out" | "$(KUBECTL)" apply -f -; else echo "No CRDs to install; skipping."; fi

.PHONY: uninstall
uninstall: manifests kustomize ## Uninstall CRDs from the K8s cluster specified in ~/.kube/config. Call with ignore-not-found=true to ignore resource not found errors during deletion.
	@out="$$( "$(KUSTOMIZE)" build config/crd 2>/dev/null || true )"; \
	if [ -n "$$out" ]; then echo "$$out" | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -; else echo "No CRDs to delete; skipping."; fi

.PHONY: deploy
deploy: manifests kustomize ## Deploy controller to the K8s cluster specified in ~/.kube/config.
	@$(kustomize-build-default) | "$(KUBECTL)" apply -f -

.PHONY: undeploy
undeploy: kustomize ## Undeploy controller from the K8s cluster specified in ~/.kube/config. Call with ignore-not-found=true to ignore resource not found errors during deletion.
	"$(KUSTOMIZE)" build config/default | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -

##@ Dependencies

## Location to install dependencies to
LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p "$(LOCALBIN)"

## Tool Binaries
KUBECTL ?= kubectl
KUSTOMIZE ?= $(LOCALBIN)/kustomize
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
GOLANGCI_LINT = $(LOCALBIN)/golangci-lint
PROMTOOL ?= $(LOCALBIN)/promtool

## Tool Versions
KUSTOMIZE_VERSION ?= v5.8.1
CONTROLLER_TOOLS_VERSION ?= v0.23.0

GOLANGCI_LINT_VERSION ?= v2.15.0
# Prometheus 3.16.0's module version. promtool only installs from releases
# whose go.mod has no replace directive (v0.312 to v0.315 have one); the Go
# tests parse PromQL with the older v0.311.0 in go.mod, which changes none of
# the manager's dependencies.
PROMETHEUS_VERSION ?= v0.316.0
.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Download kustomize locally if necessary.
$(KUSTOMIZE): $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Download controller-gen locally if necessary.
$(CONTROLLER_GEN): $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Download golangci-lint locally if necessary.
$(GOLANGCI_LINT): $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

.PHONY: promtool
promtool: $(PROMTOOL) ## Build promtool (checks the chart's alerting rules) locally if necessary.
$(PROMTOOL): $(LOCALBIN)
	$(call go-install-tool,$(PROMTOOL),github.com/prometheus/prometheus/cmd/promtool,$(PROMETHEUS_VERSION))

# go-install-tool will 'go install' any package with custom target and name of binary, if it doesn't exist
# $1 - target path with name of binary
# $2 - package url which can be installed
# $3 - specific version of package
define go-install-tool
@[ -f "$(1)-$(3)" ] && [ "$$(readlink -- "$(1)" 2>/dev/null)" = "$(1)-$(3)" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Downloading $${package}" ;\
rm -f "$(1)" ;\
GOBIN="$(LOCALBIN)" go install $${package} ;\
mv "$(LOCALBIN)/$$(basename "$(1)")" "$(1)-$(3)" ;\
} ;\
ln -sf "$$(realpath "$(1)-$(3)")" "$(1)"
endef
