#!/usr/bin/env bash
# Installs the tools the lint and clients targets need, pinned, once.
set -euo pipefail
STATICCHECK_VERSION=v0.8.2
bin="$(go env GOPATH)/bin"
if ! "$bin/staticcheck" -version 2>/dev/null | grep -q "${STATICCHECK_VERSION#v}"; then
  echo "tools: installing staticcheck $STATICCHECK_VERSION" >&2
  go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
# Node.js and npm: make clients builds the TypeScript bindings with them, and
# the unit tests run the Node.js language scripts (standby) with node.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "tools: installing nodejs and npm from Debian" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
# make clients compiles the generated Java bindings with Debian's JDK.
if ! command -v javac >/dev/null; then
  echo "tools: installing openjdk-17-jdk-headless from Debian" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless >/dev/null
fi

# git: the git component tests serve a repository with `git http-backend`.
if ! command -v git >/dev/null; then
  echo "tools: installing git" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y --no-install-recommends git >&2; else sudo apt-get install -y --no-install-recommends git >&2; fi
fi
