#!/usr/bin/env bash
# Runs every Go fuzz target of the module for a bounded time each
# (default 20s; make fuzz FUZZTIME=5m for longer). Seed corpora already run
# in make test. The targets are what `go test -list` finds in each package
# (build tags included), so none is missed; the count is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-20s}"
status=0
count=0
for pkg in $(go list ./...); do
  targets=$(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep -E '^Fuzz[A-Za-z0-9_]*$' || true)
  for t in $targets; do
    count=$((count + 1))
    echo "== $pkg $t ($fuzztime)"
    if ! go test -run '^$' -fuzz "^${t}\$" -fuzztime "$fuzztime" "$pkg"; then
      status=1
    fi
  done
done
echo "== $count fuzz targets run"
if [ "$count" -eq 0 ]; then
  echo "no fuzz target found" >&2
  exit 1
fi
exit $status
