import type { FieldLogger, LogFields } from './logging.js';
import { classifyError, errorDetail } from './redact.js';

export interface DependencyProbeOptions {
  /** How often the dependency is asked (ms, default 1000). */
  intervalMs?: number;
  /**
   * An answer later than this (ms, default 2000) counts as none: the check is aborted and the probe reports the
   * dependency down.
   */
  timeoutMs?: number;
  /** Changes of state are logged here (down: warn; up again: log). */
  logger?: FieldLogger;
  fields?: LogFields;
  now?: () => number;
  /** host:port of the dependency (endpointOf), shown in /status; never a URL with credentials. */
  endpoint?: string;
}

/**
 * Whether a dependency (ClickHouse, NATS) answers, kept up to date in the background so that a
 * readiness request reads it at once and never waits on the dependency itself. A dependency that
 * hangs (a frozen server keeps its connections open and answers nothing) is reported down after
 * at most intervalMs + timeoutMs, and up again at the first check that answers in time.
 *
 * One check at a time: while one is still pending past its timeout (a NATS flush waits for its
 * pong and cannot be cancelled) no other is started, and the dependency stays down; an answer
 * that comes after the timeout does not count.
 */
export class DependencyProbe {
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private pending: AbortController | null = null;
  private current: string | null = 'not checked yet';
  /** The last failure's full text, for the log only. */
  private detail: string | null = null;
  private checked = false;
  private since: number;
  private stopped = false;
  /** Checks answered in time and checks failed or timed out, for /status. */
  readonly counts = { ok: 0, failed: 0 };

  constructor(
    /**
     * Names the dependency by its role in reasons and logs ("ClickHouse"); no URL (it may hold credentials): the
     * endpoint option says where.
     */
    readonly name: string,
    private readonly check: (signal: AbortSignal) => Promise<unknown>,
    private readonly o: DependencyProbeOptions = {},
  ) {
    this.intervalMs = o.intervalMs ?? 1000;
    this.timeoutMs = o.timeoutMs ?? 2000;
    this.now = o.now ?? Date.now;
    this.since = this.now();
  }

  /** Checks now and then every intervalMs, until stop(). */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    (this.timer as { unref?: () => unknown }).unref?.();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.pending?.abort();
  }

  get ok(): boolean {
    return this.current === null;
  }

  /** null while the dependency answers, else why it counts as down. */
  get problem(): string | null {
    return this.current === null ? null : `${this.name}: ${this.current}`;
  }

  /**
   * The state for /status: up or down (a classified reason, never the error's text), where, since when, and the checks'
   * counts.
   */
  status(): {
    ok: boolean;
    endpoint: string | null;
    problem: string | null;
    sinceMs: number;
    checks: { ok: number; failed: number };
  } {
    return {
      ok: this.ok,
      endpoint: this.o.endpoint ?? null,
      problem: this.problem,
      sinceMs: this.since,
      checks: { ...this.counts },
    };
  }

  /** Runs one check (the interval's job; tests call it directly). */
  tick(): void {
    if (this.pending !== null || this.stopped) return;
    const controller = new AbortController();
    this.pending = controller;
    let decided = false;
    const decide = (problem: string | null, detail: string | null = problem) => {
      if (decided) return;
      decided = true;
      clearTimeout(timeout);
      this.detail = detail;
      if (!this.stopped) this.set(problem);
    };
    const timeout = setTimeout(() => {
      decide(`no answer within ${this.timeoutMs} ms`);
      controller.abort();
    }, this.timeoutMs);
    let run: Promise<unknown>;
    try {
      run = this.check(controller.signal);
    } catch (e) {
      run = Promise.reject(e);
    }
    run
      .then(
        () => decide(null),
        (e: unknown) => decide(classifyError(e), describe(e)),
      )
      .finally(() => {
        if (this.pending === controller) this.pending = null;
      });
  }

  private set(problem: string | null): void {
    if (problem === null) this.counts.ok++;
    else this.counts.failed++;
    const was = this.current;
    const first = !this.checked;
    this.checked = true;
    if ((was === null) === (problem === null) && !first) {
      this.current = problem; // still down: the latest reason
      return;
    }
    const at = this.now();
    const forMs = at - this.since;
    this.current = problem;
    this.since = at;
    const log = this.o.logger;
    if (!log) return;
    const fields = { ...this.o.fields, dependency: this.name };
    if (problem !== null)
      log.warn(
        `${this.name} does not answer (${problem}): not ready`,
        this.detail !== null && this.detail !== problem ? { ...fields, error: this.detail } : fields,
      );
    else if (!first)
      log.log(`${this.name} answers again after ${(forMs / 1000).toFixed(1)} s`, { ...fields, downMs: forMs });
  }
}

/** The failure's text for the log (URL credentials removed). */
function describe(e: unknown): string {
  const m = errorDetail(e);
  return m.length > 500 ? `${m.slice(0, 500)}...` : m || 'failed';
}
