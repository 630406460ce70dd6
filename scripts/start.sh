#!/usr/bin/env bash
# npm start: set-up (deps, NATS, ClickHouse), build everything, then run and supervise the services
# of scripts/services.json via scripts/platform.mjs until Ctrl-C / SIGTERM. Arguments go to
# platform.mjs: `npm start -- --exchange binance --symbols BTCUSDT,ETHUSDT` collects real exchanges.
# Only what this run started is stopped at the end (services + servers setup started now).
# ORDERFLOW_SKIP_BUILD=1 skips the nx build (quick restart after a build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# setup appends the pid files of the servers it starts in this run to this file
source scripts/lib/started.sh

source scripts/setup.sh

if [[ "${ORDERFLOW_SKIP_BUILD:-0}" != 1 ]]; then
  echo "start: npx nx run-many -t build"
  npx nx run-many -t build
fi

# from here on platform.mjs owns the clean-up (it reads ORDERFLOW_STARTED_FILE)
trap - EXIT INT TERM
exec node scripts/platform.mjs "$@"
