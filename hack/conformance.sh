#!/usr/bin/env bash
# Editor-side conformance test: the typed TypeScript client
# (clients/typescript, on vscode-jsonrpc, pinned in its package-lock.json)
# drives bin/odod serve over stdio, every answer checked against
# protocol/metaModel.json. make clients builds the client first.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x bin/odod ] || { echo "conformance: bin/odod missing: run make build" >&2; exit 1; }
[ -f clients/typescript/dist/index.js ] || { echo "conformance: clients/typescript is not built: run make clients" >&2; exit 1; }
clients/typescript/node_modules/.bin/tsc -p test/conformance
cd test/conformance
ODOD_BIN="$PWD/../../bin/odod" node --test
