#!/usr/bin/env bash
# Benchmarks: Go benchmarks of every package, then the benchmark programs
# that compare odod with find/cat/tar on the same machine. Figures go to
# stdout; docs/performance.md records them.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench . -benchmem ./...
tree=$(mktemp -d /tmp/odod-bench-tree.XXXXXX)
trap 'rm -rf "$tree"' EXIT
make -s build
go run ./hack/indexbench gen -dir "$tree/t"
echo "== go run ./hack/indexbench run"
go run ./hack/indexbench run -dir "$tree/t"
echo "== go run ./hack/indexbench serve"
go run ./hack/indexbench serve -dir "$tree/t" -odod bin/odod
# The push benchmark needs the local cluster.
hack/cluster up >/dev/null
echo "== go run ./hack/pushbench"
KUBECONFIG="$(hack/cluster env | sed -n 's/^export KUBECONFIG=//p')" go run ./hack/pushbench
