#!/usr/bin/env bash
# Installs the npm packages the project uses, offline-reproducible from the lock files:
# - tests/interop: the official SignalR JavaScript client for interop tests;
# - src/Hub/Dashboard: the browser bundles the hub's /dashboard page serves (SignalR client, uPlot), copied into
#   src/Hub/wwwroot/dashboard/lib/ (not committed; the build copies them beside the hub).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d tests/interop/node_modules/@microsoft/signalr-protocol-msgpack ]; then
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
fi

dashboard=src/Hub/Dashboard
lib=src/Hub/wwwroot/dashboard/lib
if [ ! -f "$dashboard/node_modules/uplot/dist/uPlot.iife.min.js" ] || [ ! -f "$dashboard/node_modules/@microsoft/signalr/dist/browser/signalr.min.js" ]; then
  (cd "$dashboard" && npm ci --no-audit --no-fund --loglevel=error)
fi
mkdir -p "$lib"
cp "$dashboard/node_modules/@microsoft/signalr/dist/browser/signalr.min.js" "$lib/signalr.min.js"
cp "$dashboard/node_modules/uplot/dist/uPlot.iife.min.js" "$lib/uPlot.iife.min.js"
cp "$dashboard/node_modules/uplot/dist/uPlot.min.css" "$lib/uPlot.min.css"
cp "$dashboard/node_modules/uplot/LICENSE" "$lib/uPlot.LICENSE.txt"
