#!/usr/bin/env bash
# Editor-side conformance test: the real vscode-jsonrpc client (pinned in
# test/conformance/package-lock.json) drives bin/odod serve over stdio.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "conformance: installing nodejs and npm from Debian" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
[ -x bin/odod ] || { echo "conformance: bin/odod missing: run make build" >&2; exit 1; }

cd test/conformance
# npm ci is idempotent and uses npm's cache on later runs.
if [ ! -d node_modules/vscode-jsonrpc ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
ODOD_BIN="$PWD/../../bin/odod" node --test
