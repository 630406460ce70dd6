# Sourced by start.sh and test.sh: the servers that setup starts in this run are recorded in
# $ORDERFLOW_STARTED_FILE, and exactly those are stopped when the script exits (or is interrupted).
ORDERFLOW_STARTED_FILE="$(mktemp "${TMPDIR:-/tmp}/orderflow-started.XXXXXX")"
export ORDERFLOW_STARTED_FILE
orderflow_stop_started() {
  node scripts/lib/services.mjs stop-started "$ORDERFLOW_STARTED_FILE" || true
  rm -f "$ORDERFLOW_STARTED_FILE"
}
trap orderflow_stop_started EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
