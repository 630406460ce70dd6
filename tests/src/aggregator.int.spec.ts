[
  {
    "name": "gateway > snapshot + updates during a replay equal ClickHouse and the recording, native and grouped, single and merged",
    "file": "/work/main/tests/src/gateway.int.spec.ts"
  },
  {
    "name": "gateway > profile, VWAP, CVD, TPO, imbalances and naked POCs over HTTP equal the engine on the same range",
    "file": "/work/main/tests/src/gateway.int.spec.ts"
  },
  {
    "name": "gateway > the aggregator restarting mid-stream (a new epoch) makes the gateway re-snapshot: clients stay exact",
    "file": "/work/main/tests/src/gateway.int.spec.ts"
  },
  {
    "name": "proof under fire (small) > exactness: the recording with its real id holes ends in footprint and candles equal to the reference",
    "file": "/work/main/tests/src/proof/faults.int.spec.ts"
  }
]