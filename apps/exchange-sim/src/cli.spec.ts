import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError, parseCli, runCli } from './cli.js';
import { http, TestClient, until } from './testing/helpers.js';

describe('CLI', () => {
  it('parses the demo command line and rejects bad ones', () => {
    const cmd = parseCli([
      '--protocol',
      'binance-spot',
      '--port',
      '9101',
      '--symbols',
      'BTCUSDT,ETHUSDT',
      '--rate',
      '200',
    ])!;
    expect(cmd.protocol).toBe('binance-spot');
    expect(cmd.options).toMatchObject({
      port: 9101,
      symbols: ['BTCUSDT', 'ETHUSDT'],
      rate: 200,
    });
    expect(parseCli([])!.options.port).toBe(9101);
    expect(parseCli(['--protocol', 'okx'])!.options.port).toBe(9104);
    expect(parseCli(['--replay', 'a.csv', '--symbol', 'LTCUSDT'])!.options.replay).toEqual([
      { file: 'a.csv', symbol: 'LTCUSDT' },
    ]);
    expect(parseCli(['--help'])).toBeNull();
    expect(() => parseCli(['--protocol', 'kraken'])).toThrow(CliError);
    expect(() => parseCli(['--rate', '-1'])).toThrow(/--rate/);
    expect(() => parseCli(['--bogus'])).toThrow(CliError);
  });

  it('parses --pacing and --tick-ms (constant pacing ticks every 5 ms unless told)', () => {
    expect(parseCli(['--rate', '50000', '--pacing', 'constant'])!.options).toMatchObject({
      rate: 50_000,
      pacing: 'constant',
      tickMs: 5,
    });
    expect(parseCli(['--pacing', 'constant', '--tick-ms', '2'])!.options).toMatchObject({
      pacing: 'constant',
      tickMs: 2,
    });
    const poisson = parseCli(['--pacing', 'poisson'])!.options;
    expect(poisson).toMatchObject({ pacing: 'poisson' });
    expect(poisson.tickMs).toBeUndefined();
    expect(parseCli([])!.options.pacing).toBeUndefined();
    expect(() => parseCli(['--pacing', 'uniform'])).toThrow(/--pacing/);
    expect(() => parseCli(['--pacing', 'constant', '--rate', '0'])).toThrow(/--rate/);
    expect(() => parseCli(['--tick-ms', '0'])).toThrow(/--tick-ms/);
  });

  it('starts a synthetic market, prints its URLs and answers /health', async () => {
    const lines: string[] = [];
    const sim = await runCli(
      parseCli(['--protocol', 'bybit-linear', '--port', '0', '--symbols', 'BTCUSDT', '--rate', '500', '--quiet'])!,
      (l) => lines.push(l),
    );
    try {
      expect(lines.join('\n')).toContain(`ws   linear    ${sim.wsUrl}/v5/public/linear`);
      expect(lines.join('\n')).toContain(`rest ${sim.restUrl}`);
      expect((await http(`${sim.restUrl}/health`)).status).toBe(200);
      const c = await TestClient.open(sim.endpoints['linear']!);
      c.send('{"op":"subscribe","args":["publicTrade.BTCUSDT"]}');
      await c.frameCount(3);
      c.close();
    } finally {
      await sim.stop();
    }
  });

  const built = resolve(import.meta.dirname, '../dist/main.js');
  // the nx test target builds the simulator first (package.json nx.targets.test.dependsOn)
  it('dist/main.js exits cleanly on SIGTERM and SIGINT', async () => {
    expect(existsSync(built), `${built} is not built: npx nx run @orderflow/exchange-sim:build`).toBe(true);
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const child = spawn(process.execPath, [built, '--protocol', 'okx', '--port', '0', '--rate', '100'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await until(() => /rest http:\/\/127\.0\.0\.1:\d+/.test(out), 10_000, 'the CLI to print its URLs');
      const rest = /rest (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
      expect((await http(`${rest}/health`)).status).toBe(200);
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      child.kill(signal);
      expect(await exited).toBe(0);
    }
  });
});
