import { describe, expect, it } from 'vitest';
import { classifyError, endpointOf, errorDetail, redactCredentials } from './redact.js';

/** The ClickHouse client's server error: its text quotes the query, table and version. */
function clickHouseError(): Error {
  const e = new Error(
    'Code: 81. DB::Exception: Database secret_db does not exist. (UNKNOWN_DATABASE) (version 26.7.1.1 (official build))',
  );
  Object.assign(e, { code: '81', type: 'UNKNOWN_DATABASE' });
  return e;
}

describe('classifyError: a short reason, never the error text', () => {
  it('names network failures by their code, also when they are the cause', () => {
    expect(
      classifyError(Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:8123'), { code: 'ECONNREFUSED' })),
    ).toBe('connection refused');
    expect(
      classifyError(
        new Error('fetch failed', {
          cause: Object.assign(new Error('getaddrinfo ENOTFOUND ch.internal'), { code: 'ENOTFOUND' }),
        }),
      ),
    ).toBe('host not found');
    expect(classifyError(new Error('socket hang up'))).toBe('connection reset');
    expect(classifyError(new Error('Timeout error.'))).toBe('timeout');
  });

  it('names a ClickHouse server error by its error name, without its text', () => {
    expect(classifyError(clickHouseError())).toBe('ClickHouse UNKNOWN_DATABASE');
    expect(
      classifyError(
        new Error(
          'ClickHouse: Code: 60. DB::Exception: Unknown table expression identifier orderflow.candles_x. (UNKNOWN_TABLE) (version 18.16.1)',
        ),
      ),
    ).toBe('ClickHouse UNKNOWN_TABLE');
    expect(
      classifyError(
        Object.assign(new Error('Unexpected status 500 from http://u:p@h:8123/?query=SELECT'), { statusCode: 500 }),
      ),
    ).toBe('HTTP 500');
  });

  it('keeps the platform\'s own short texts; anything else is "failed"', () => {
    expect(classifyError(new Error('connection closed'))).toBe('connection closed');
    expect(classifyError(new Error('SELECT secret FROM orderflow.trades at http://user:pass@ch:8123'))).toBe('failed');
    expect(classifyError(undefined)).toBe('failed');
  });
});

describe('endpointOf and redactCredentials', () => {
  it('host:port only: no scheme, credentials, path or query', () => {
    expect(endpointOf('http://orderflow:s3cret@clickhouse.db:8123/?database=x')).toBe('clickhouse.db:8123');
    expect(endpointOf('https://u:p@ch.example.com')).toBe('ch.example.com:443');
    expect(endpointOf('nats://a:b@n1:4222, nats://n2')).toBe('n1:4222,n2:4222');
    expect(endpointOf('not a url ::')).toBe('?');
  });

  it('removes URL credentials from log texts, keeping the rest', () => {
    expect(redactCredentials('connect to http://orderflow:s3cret@ch:8123/ failed')).toBe(
      'connect to http://[redacted]@ch:8123/ failed',
    );
    expect(
      errorDetail(
        new Error('outer http://u:pw@h:1', { cause: Object.assign(new Error('inner'), { code: 'ECONNREFUSED' }) }),
      ),
    ).toBe('outer http://[redacted]@h:1; caused by: inner [ECONNREFUSED]');
    expect(errorDetail(clickHouseError())).toContain('Database secret_db does not exist');
  });
});
