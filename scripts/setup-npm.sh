#!/usr/bin/env bash
# Installs the npm packages the project uses, offline-reproducible from the lock files: the official SignalR JavaScript
# client for interop tests (tests/interop), and the dashboard page's browser libraries (scripts/fetch-dashboard-libs.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d tests/interop/node_modules/@microsoft/signalr-protocol-msgpack ]; then
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
fi
bash scripts/fetch-dashboard-libs.sh
