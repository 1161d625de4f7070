#!/usr/bin/env bash
# Installs the npm packages tests use (the official SignalR JavaScript client), offline-reproducible from the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d tests/interop/node_modules/@microsoft/signalr-protocol-msgpack ]; then
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
fi
