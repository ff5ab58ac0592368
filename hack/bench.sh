#!/usr/bin/env bash
# Benchmarks: Go benchmarks of every package, then the benchmark programs
# that compare odod with find/cat/tar on the same machine. Figures go to
# stdout; docs/performance.md records them.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench . -benchmem ./...
for prog in hack/*bench/; do
  [ -f "$prog/main.go" ] || continue
  echo "== go run ./$prog"
  go run "./$prog"
done
