#!/usr/bin/env bash
# make clients: builds the protocol's bindings generated from
# protocol/metaModel.json, so a generated file that does not compile fails
# here.
#  - clients/typescript (npm package odod-client) with tsc; typescript,
#    @types/node and vscode-jsonrpc come from npm, pinned in its
#    package-lock.json, installed once (npm's cache serves later installs);
#  - the TypeScript example of docs/plugins.md, against that package;
#  - clients/java with Debian's JDK: javac --release 17 -Xlint:all -Werror
#    (hack/tools.sh installs it), LSP4J's two annotations stood in for by
#    clients/java/lsp4j-stubs.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v node >/dev/null && command -v npm >/dev/null || { echo "clients: node or npm missing: run hack/tools.sh" >&2; exit 1; }

ts=clients/typescript
if [ ! -d $ts/node_modules/typescript ] || [ $ts/package-lock.json -nt $ts/node_modules/.package-lock.json ]; then
  (cd $ts && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "clients: tsc $ts" >&2
$ts/node_modules/.bin/tsc -p $ts

# The example is the ```ts block after the marker line in docs/plugins.md.
mkdir -p $ts/.build/example
awk '/<!-- example: compiled by make clients -->/ {on=1; next} on && /^```ts$/ {in_=1; next} in_ && /^```$/ {exit} in_ {print}' \
  docs/plugins.md > $ts/.build/example/plugin.ts
[ -s $ts/.build/example/plugin.ts ] || { echo "clients: docs/plugins.md has no example after its marker line" >&2; exit 1; }
echo "clients: tsc the example of docs/plugins.md" >&2
$ts/node_modules/.bin/tsc -p $ts/tsconfig.example.json

command -v javac >/dev/null || { echo "clients: javac missing: run hack/tools.sh" >&2; exit 1; }
echo "clients: javac clients/java" >&2
rm -rf clients/java/.build
javac --release 17 -Xlint:all -Werror -d clients/java/.build $(find clients/java/src clients/java/lsp4j-stubs -name '*.java' | sort)
