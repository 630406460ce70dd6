#!/usr/bin/env bash
# npm test: set-up (deps, NATS, ClickHouse: integration tests may use the default ones), then
# build, lint and test every project. Stops the servers that setup started in this run at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ORDERFLOW_STARTED_FILE="$(mktemp "${TMPDIR:-/tmp}/orderflow-started.XXXXXX")"
export ORDERFLOW_STARTED_FILE
cleanup() {
  node scripts/lib/services.mjs stop-started "$ORDERFLOW_STARTED_FILE" || true
  rm -f "$ORDERFLOW_STARTED_FILE"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

source scripts/setup.sh

echo "test: npx nx run-many -t build typecheck lint test --outputStyle=static"
status=0
npx nx run-many -t build typecheck lint test --outputStyle=static || status=$?
echo "test: nx exited with status $status"
exit "$status"
