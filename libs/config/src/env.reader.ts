/**
 * Reads an app's configuration from an environment record once, at start-up, and fails with an
 * error that names the variable, what it got and what is allowed. Every problem is collected so
 * that one start shows all of them. Pure: the caller passes process.env.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

export class EnvReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  string(name: string, fallback?: string): string {
    const v = this.raw(name) ?? fallback;
    if (v === undefined) {
      this.problems.push(`${name} is required`);
      return '';
    }
    return v;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
      return fallback;
    }
    return n;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T {
    const v = this.raw(name) ?? fallback;
    if (v === undefined || !(allowed as readonly string[]).includes(v)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got ${v === undefined ? 'nothing' : `"${v}"`}`);
      return (fallback ?? allowed[0]) as T;
    }
    return v as T;
  }

  list(name: string, pattern: RegExp, fallback?: string[]): string[] {
    const v = this.raw(name);
    if (v === undefined) {
      if (fallback) return fallback;
      this.problems.push(`${name} is required (a comma-separated list)`);
      return [];
    }
    const items = v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    const bad = items.filter((s) => !pattern.test(s));
    if (items.length === 0 || bad.length > 0)
      this.problems.push(
        `${name} must be a comma-separated list matching ${pattern}, bad: ${bad.join(', ') || '(empty)'}`,
      );
    return items;
  }

  url(name: string, fallback: string | undefined, protocols: readonly string[]): string {
    const v = this.raw(name) ?? fallback;
    if (v === undefined) {
      this.problems.push(`${name} is required (a URL)`);
      return '';
    }
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) throw new Error('protocol');
      return v.replace(/\/+$/, '');
    } catch {
      this.problems.push(`${name} must be a ${protocols.join(' or ')} URL, got "${v}"`);
      return '';
    }
  }

  /** Records a problem found by the caller's own cross-field checks. */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** Throws ConfigError listing every problem, if any. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}
