#!/usr/bin/env bash
# Proof under fire: the fault suite, the hostile-input fuzzer and the SQL-injection check.
#
#   scripts/proof.sh          small size (what `npm test` runs): ~10 min
#   scripts/proof.sh full     ≥ 1M trades per fault (2 × 599,776), writes docs/proof/REPORT.md
#   scripts/proof.sh load     the load bench (tests/bench/load.bench.mjs), writes docs/proof/LOAD.md + LOAD.svg:
#                             the constant-rate simulator at LOAD_RATES (default 10000,25000,50000,100000
#                             trades/s) through collector, JetStream, 2 shards, ClickHouse and the gateway,
#                             with LOAD_CLIENTS (default 100,1000) Socket.IO clients, LOAD_SECONDS (default
#                             20) each; ~10-12 min. Short run: LOAD_RATES=50000 LOAD_SECONDS=8 LOAD_CLIENTS=100
#
# Needs the built services (npx nx run-many -t build) and the recordings in ../shared/data/.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-small}" in
  small) cd tests && npx vitest run -c vitest.proof.config.ts && PROOF_FUZZ_RUNS="${PROOF_FUZZ_RUNS:-40000}" exec npx vitest run -c vitest.fuzz.config.ts ;;
  full)
    cd tests
    PROOF_SIZE=full PROOF_JSON="${PROOF_JSON:-/tmp/orderflow-proof-full.json}" npx vitest run -c vitest.proof.config.ts src/proof/faults.int.spec.ts
    npx vitest run -c vitest.proof.config.ts src/proof/sql-injection.int.spec.ts
    # the fuzzers (normalisers and gateway) at full size: 100,000 inputs each (npm test runs 40,000)
    PROOF_FUZZ_RUNS="${PROOF_FUZZ_RUNS:-100000}" exec npx vitest run -c vitest.fuzz.config.ts ;;
  load) exec node tests/bench/load.bench.mjs ;;
  *) echo "usage: scripts/proof.sh [small|full|load]" >&2; exit 2 ;;
esac
