import { Backoff } from '@orderflow/resilience';

/**
 * The waits of retried publishes and of the first connection, on the platform's one reconnect
 * policy (`Backoff`): after n failures, a wait drawn evenly from [50 %, 100 %] of
 * baseMs * 2^(n-1) capped at maxMs, so that many publishers retrying after one outage do not hit
 * the server in step. Backoff jitters around a centre: 75 % of that, plus or minus a third of it.
 */
export function retryBackoff(baseMs: number, maxMs: number, random?: () => number): Backoff {
  return new Backoff(
    { initialMs: 0.75 * Math.min(baseMs, maxMs), factor: 2, maxMs: 0.75 * maxMs, jitter: 1 / 3 },
    random,
  );
}

/** True for attempts worth a log line: 1, 2, 4, 8, ... (a long outage does not flood the log). */
export function isLogWorthyAttempt(attempt: number): boolean {
  return attempt > 0 && (attempt & (attempt - 1)) === 0;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
