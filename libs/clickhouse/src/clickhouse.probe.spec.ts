import type { ClickHouseClient } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { clickHouseProbe } from './clickhouse.probe.js';

/** A client whose pings answer as scripted, recording what each was asked with. */
function client(answers: (() => Promise<{ success: boolean; error?: Error }>)[]) {
  const asked: { select?: boolean; abort_signal?: AbortSignal }[] = [];
  const ch = {
    ping: (o: { select?: boolean; abort_signal?: AbortSignal }) => {
      asked.push(o);
      return answers.shift()!();
    },
  };
  return { ch: ch as unknown as ClickHouseClient, asked };
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('clickHouseProbe', () => {
  it('pings without a query, with the probe’s abort signal, and reports where by host:port only', async () => {
    const { ch, asked } = client([async () => ({ success: true })]);
    const probe = clickHouseProbe(ch, 'http://reader:secret@ch.example:8123');
    probe.tick();
    await settle();
    expect(asked).toHaveLength(1);
    expect(asked[0]!.select).toBe(false);
    expect(asked[0]!.abort_signal).toBeInstanceOf(AbortSignal);
    expect(probe.ok).toBe(true);
    expect(probe.status().endpoint).toBe('ch.example:8123');
    probe.stop();
  });

  it('reports ClickHouse down when the ping fails or answers without success, and up again when it answers', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });
    const { ch } = client([
      async () => ({ success: false, error: refused }),
      () => Promise.reject(refused),
      async () => ({ success: true }),
    ]);
    const probe = clickHouseProbe(ch, 'http://127.0.0.1:8123');
    for (const up of [false, false, true]) {
      probe.tick();
      await settle();
      expect(probe.ok).toBe(up);
      if (!up) expect(probe.problem).toMatch(/^ClickHouse: /);
    }
    probe.stop();
  });
});
