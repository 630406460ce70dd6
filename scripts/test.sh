#!/usr/bin/env bash
# npm test: set-up (deps, NATS, ClickHouse: integration tests may use the default ones), then
# build, lint and test every project. Stops the servers that setup started in this run at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source scripts/lib/started.sh

# what only the tests need is installed too (ZooKeeper for the replicated ClickHouse suite)
export ORDERFLOW_TEST_SETUP=1
source scripts/setup.sh

# A current ClickHouse for the `test-ch26` targets: chdb (ClickHouse 26.x in-process, ~540 MB), in
# scripts/chdb/node_modules so that `npm start` never installs it (scripts/lib/chdb.mjs). `npm install`
# with the committed lock, not `npm ci`: npm leaves chdb's optional packages for other platforms out
# of the lock, which `npm ci` then refuses as out of sync.
if [[ ! -f scripts/chdb/node_modules/.package-lock.json || scripts/chdb/package-lock.json -nt scripts/chdb/node_modules/.package-lock.json ]]; then
  echo "test: npm install --prefix scripts/chdb (chdb, a current ClickHouse for the test-ch26 targets)"
  npm install --prefix scripts/chdb --no-audit --no-fund
  touch scripts/chdb/node_modules/.package-lock.json
fi

# The fuzzers at a quarter of their full size (scripts/proof.sh full runs 100,000 inputs each): they
# are CPU-bound and share the 2 cores with every other suite, and CI must stay within 20 minutes.
export PROOF_FUZZ_RUNS="${PROOF_FUZZ_RUNS:-25000}"

# Tests always run for real (no replay from the Nx cache); each vitest run writes a JSON summary.
export ORDERFLOW_TEST_RESULTS_DIR="$PWD/.data/test-results"
rm -rf "$ORDERFLOW_TEST_RESULTS_DIR"
mkdir -p "$ORDERFLOW_TEST_RESULTS_DIR"
echo "test: npx nx run-many -t build check-types lint test test-proof test-ch26 test-fuzz --parallel=4 --skip-nx-cache --outputStyle=static"
status=0
npx nx run-many -t build check-types lint test test-proof test-ch26 test-fuzz --parallel=4 --skip-nx-cache --outputStyle=static || status=$?
echo "test: nx exited with status $status"
node scripts/test-summary.mjs "$ORDERFLOW_TEST_RESULTS_DIR" || status=1
exit "$status"
