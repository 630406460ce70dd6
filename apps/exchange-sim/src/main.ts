#!/usr/bin/env node
/**
 * exchange-sim CLI: runs one protocol simulator until SIGINT/SIGTERM (see cli.ts for the options).
 *
 *   node apps/exchange-sim/dist/main.js --protocol binance-spot --port 9101 --symbols BTCUSDT,ETHUSDT --rate 200
 *   node apps/exchange-sim/dist/main.js --protocol binance-usdm --replay
 * ../shared/data/binance-futures_BTCUSDT_trade-ws_2024-08-08T2354.jsonl
 */
import { CliError, HELP, parseCli, runCli } from './cli.js';

async function main(): Promise<void> {
  const print = (line: string) => process.stdout.write(`${line}\n`);
  let command;
  try {
    command = parseCli(process.argv.slice(2), print);
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    process.stderr.write(`exchange-sim: ${e.message}\n\n${HELP}`);
    process.exit(2);
  }
  if (command === null) {
    process.stdout.write(HELP);
    return;
  }
  let sim;
  try {
    sim = await runCli(command, print);
  } catch (e) {
    process.stderr.write(`exchange-sim: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const tag = `exchange-sim[${command.protocol}]`;
  let stopping = false;
  const shutdown = (why: string) => {
    if (stopping) return;
    stopping = true;
    print(`${tag} ${why}: stopping`);
    setTimeout(() => process.exit(1), 5000).unref();
    void sim.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  void sim.controls.replayFinished().then((r) => {
    print(`${tag} all trades sent: ${r.trades} in ${r.durationMs} ms (REST history stays available)`);
    if (command.exitAfterReplay) shutdown('replay finished');
  });
}

void main();
