/**
 * deploy/systemd/orderflow.service: systemd accepts it, and its command line is one `npm start`
 * accepts (the same parser scripts/platform.mjs uses), so an operator who copies it gets a service
 * that starts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helm.js';

const UNIT = join(REPO_ROOT, 'deploy/systemd/orderflow.service');
const ANALYZE = '/usr/bin/systemd-analyze';

interface Plan {
  parseExchangeArgs(argv: string[], known: string[]): { exchange: string; symbols: string[] }[];
}

/** `Key=value` lines of one section. */
function section(text: string, name: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) current = line;
    else if (current === `[${name}]` && line && !line.startsWith('#')) {
      const i = line.indexOf('=');
      out.set(line.slice(0, i), [...(out.get(line.slice(0, i)) ?? []), line.slice(i + 1)]);
    }
  }
  return out;
}

describe('the systemd unit', () => {
  const text = readFileSync(UNIT, 'utf8');
  const service = section(text, 'Service');

  it(
    'passes systemd-analyze verify',
    { skip: !existsSync(ANALYZE), meta: { skipReason: `${ANALYZE} is missing (systemd)` } },
    () => {
      // throws (non-zero exit) on an unknown key, a bad value or a missing executable
      const out = execFileSync(ANALYZE, ['verify', UNIT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out.trim()).toBe('');
    },
  );

  it('runs start.sh with a command line npm start accepts, and stops the supervisor first', async () => {
    const exec = service.get('ExecStart')![0]!.split(/\s+/);
    expect(exec.slice(0, 2)).toEqual(['/bin/bash', '/opt/orderflow/scripts/start.sh']);
    expect(existsSync(join(REPO_ROOT, 'scripts/start.sh'))).toBe(true);
    expect(readFileSync(join(REPO_ROOT, 'scripts/start.sh'), 'utf8')).toMatch(
      /\nexec node scripts\/platform\.mjs "\$@"\n/,
    );
    const { parseExchangeArgs } = (await import(
      new URL('../../scripts/lib/platform-plan.mjs', import.meta.url).href
    )) as Plan;
    // the real exchanges' ids, as libs/contracts lists them (the chart's projects import no libraries)
    const known = [
      ...readFileSync(join(REPO_ROOT, 'libs/contracts/src/exchanges.ts'), 'utf8').matchAll(
        /\{ id: '([a-z-]+)', protocol/g,
      ),
    ].map((m) => m[1]!);
    expect(known).toContain('binance');
    expect(parseExchangeArgs(exec.slice(2), known)).toEqual([{ exchange: 'binance', symbols: ['BTCUSDT', 'ETHUSDT'] }]);
    // SIGTERM to the main process (the supervisor, which start.sh exec's), the rest only after the timeout
    expect(service.get('KillMode')).toEqual(['mixed']);
    expect(service.get('Restart')).toEqual(['on-failure']);
    expect(service.get('Environment')).toContain('ORDERFLOW_SKIP_BUILD=1');
  });
});
