#!/usr/bin/env bash
# Installs the browser libraries the hub's /dashboard page serves (the official SignalR client and uPlot) with npm,
# offline-reproducible from src/Hub/Dashboard/package-lock.json, and copies their bundles into
# src/Hub/wwwroot/dashboard/lib/ (not committed; the build copies wwwroot/ beside the hub). Idempotent.
# Called by scripts/setup-npm.sh and by the hub's Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=src/Hub/Dashboard
lib=src/Hub/wwwroot/dashboard/lib
modules="$packages/node_modules"
if [ ! -f "$modules/uplot/dist/uPlot.iife.min.js" ] || [ ! -f "$modules/@microsoft/signalr/dist/browser/signalr.min.js" ]; then
  (cd "$packages" && npm ci --no-audit --no-fund --loglevel=error)
fi
mkdir -p "$lib"
cp "$modules/@microsoft/signalr/dist/browser/signalr.min.js" "$lib/signalr.min.js"
cp "$modules/uplot/dist/uPlot.iife.min.js" "$lib/uPlot.iife.min.js"
cp "$modules/uplot/dist/uPlot.min.css" "$lib/uPlot.min.css"
cp "$modules/uplot/LICENSE" "$lib/uPlot.LICENSE.txt"
