# odod's build, test and benchmark entry points. `make test` is the one
# command README names and .ci/run runs.
SHELL := /bin/bash
GO ?= go
BIN := bin
FUZZTIME ?= 20s

.PHONY: all build cross release demo test unit integration conformance bench fuzz lint cluster-up cluster-down cluster-purge tools

# The version stamped into the binaries: `make release VERSION=v1.2.3`, else
# a VERSION file, else git's description of the checkout.
VERSION ?= $(shell cat VERSION 2>/dev/null || git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -s -w -X github.com/odod-dev/odod/internal/version.version=$(VERSION)

# One set of build settings for every target and the go commands the tests
# run (static, -trimpath), so each platform's packages are compiled once
# rather than once per setting: a cold `make test` compiled client-go and
# its graph three times over. Only the race detector needs cgo.
export CGO_ENABLED := 0
export GOFLAGS := -trimpath

all: build

build:
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/odod ./cmd/odod
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/odod-init ./cmd/odod-init

# The editors run odod on Linux, macOS and Windows: every package and its
# tests must build there (docs/development.md, Platforms). vet type-checks
# the tests too; what only the container runs is linux-only by build tags.
CROSS_OSES := linux darwin windows

cross:
	@set -e; for os in $(CROSS_OSES); do \
		echo "GOOS=$$os: build and vet"; \
		GOOS=$$os GOARCH=amd64 CGO_ENABLED=0 $(GO) build ./...; \
		GOOS=$$os GOARCH=amd64 CGO_ENABLED=0 $(GO) vet ./...; \
	done

# What an editor plugin bundles: odod for each OS and CPU the editors run
# on, odod-init for the cluster's nodes, and their SHA-256 sums.
DIST := dist
RELEASE_PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
INIT_PLATFORMS := linux/amd64 linux/arm64

release:
	rm -rf $(DIST)
	@mkdir -p $(DIST)
	@set -e; for p in $(RELEASE_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; if [ $$os = windows ]; then ext=.exe; fi; \
		echo "$(DIST)/odod-$$os-$$arch$$ext"; \
		GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(DIST)/odod-$$os-$$arch$$ext ./cmd/odod; \
	done
	@set -e; for p in $(INIT_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; \
		echo "$(DIST)/odod-init-$$os-$$arch"; \
		GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(DIST)/odod-init-$$os-$$arch ./cmd/odod-init; \
	done
	cd $(DIST) && if command -v sha256sum >/dev/null; then sha256sum odod-*; else shasum -a 256 odod-*; fi > SHA256SUMS
	@echo "$(DIST)/ holds odod $(VERSION) and SHA256SUMS"

# odod's main job on the local cluster, from a terminal (hack/demo.sh).
demo:
	hack/demo.sh

# Everything: lint, the build for every OS, unit tests with fuzz seed
# corpora, the editor-side conformance test, and the cluster tests against
# the real local cluster.
test: lint build cross release unit conformance integration

# The concurrency-heavy packages also run under the race detector.
RACE_PKGS := ./agent/... ./component/... ./container/... ./daemon/... ./indexer/... ./sync/...

unit:
	$(GO) test -count=1 ./...
	CGO_ENABLED=1 $(GO) test -count=1 -race $$($(GO) list $(RACE_PKGS) 2>/dev/null)

conformance: build
	hack/conformance.sh

integration: build cluster-up
	ODOD_REQUIRE_CLUSTER=1 $(GO) test -count=1 -tags integration -timeout 40m ./...

bench:
	hack/bench.sh

fuzz:
	hack/fuzz.sh $(FUZZTIME)

lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags integration ./...
	$$($(GO) env GOPATH)/bin/staticcheck -tags integration ./...
	cd hack/k8s && CGO_ENABLED=0 GOFLAGS=-mod=mod $(GO) vet -trimpath -tags providerless ./... && cd ../addons/coredns && CGO_ENABLED=0 GOFLAGS=-mod=mod $(GO) vet -trimpath ./...

tools:
	hack/tools.sh

cluster-up:
	hack/cluster up

cluster-down:
	hack/cluster down

cluster-purge:
	hack/cluster down --purge
