/**
 * Exponential backoff with jitter for retried publishes: attempt 1 waits about `baseMs`, each
 * further attempt twice as long, capped at `maxMs`; the wait is drawn from [50 %, 100 %] of that so
 * that many publishers retrying after one outage do not hit the server in step.
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.max(1, Math.round(exp * (0.5 + 0.5 * random())));
}

/** True for attempts worth a log line: 1, 2, 4, 8, ... (a long outage does not flood the log). */
export function isLogWorthyAttempt(attempt: number): boolean {
  return attempt > 0 && (attempt & (attempt - 1)) === 0;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
