# odod's build, test and benchmark entry points. `make test` is the one
# command README names and .ci/run runs.
SHELL := /bin/bash
GO ?= go
BIN := bin
FUZZTIME ?= 20s

.PHONY: all build demo test unit integration conformance bench fuzz lint cluster-up cluster-down cluster-purge tools

all: build

build:
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(BIN)/odod ./cmd/odod
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/odod-init ./cmd/odod-init

# odod's main job on the local cluster, from a terminal (hack/demo.sh).
demo:
	hack/demo.sh

# Everything: lint, unit tests with fuzz seed corpora, the editor-side
# conformance test, and the cluster tests against the real local cluster.
test: lint build unit conformance integration

# The concurrency-heavy packages also run under the race detector.
RACE_PKGS := ./agent/... ./component/... ./container/... ./daemon/... ./indexer/... ./sync/...

unit:
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race $$($(GO) list $(RACE_PKGS) 2>/dev/null)

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
