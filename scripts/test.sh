#!/usr/bin/env bash
# npm test: set-up (deps, NATS, ClickHouse: integration tests may use the default ones), then
# build, lint and test every project. Stops the servers that setup started in this run at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source scripts/lib/started.sh

source scripts/setup.sh

# Tests always run for real (no replay from the Nx cache); each vitest run writes a JSON summary.
export ORDERFLOW_TEST_RESULTS_DIR="$PWD/.data/test-results"
rm -rf "$ORDERFLOW_TEST_RESULTS_DIR"
mkdir -p "$ORDERFLOW_TEST_RESULTS_DIR"
echo "test: npx nx run-many -t build check-types lint test test-fuzz --skip-nx-cache --outputStyle=static"
status=0
npx nx run-many -t build check-types lint test test-fuzz --skip-nx-cache --outputStyle=static || status=$?
echo "test: nx exited with status $status"
node scripts/test-summary.mjs "$ORDERFLOW_TEST_RESULTS_DIR" || status=1
exit "$status"
