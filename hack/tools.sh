#!/usr/bin/env bash
# Installs the Go tools the lint target needs, pinned, once.
set -euo pipefail
STATICCHECK_VERSION=v0.8.2
bin="$(go env GOPATH)/bin"
if ! "$bin/staticcheck" -version 2>/dev/null | grep -q "${STATICCHECK_VERSION#v}"; then
  echo "tools: installing staticcheck $STATICCHECK_VERSION" >&2
  go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
