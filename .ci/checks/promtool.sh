#!/usr/bin/env bash
# Checks the Prometheus deployment files: config syntax, alert rule syntax and the alert rules' unit tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool is not installed (apt-get install -y --no-install-recommends prometheus)" >&2
  exit 1
fi
promtool check config deploy/prometheus/prometheus.yml
promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts.test.yml
