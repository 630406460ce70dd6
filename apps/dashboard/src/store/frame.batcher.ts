/**
 * Collects items (live updates) and hands them over once per animation frame: however many
 * updates arrive between two frames, they are applied together and drawn once. The scheduler is
 * injected so that tests drive frames by hand.
 */
export type FrameScheduler = (cb: () => void) => unknown;

export const animationFrame: FrameScheduler = (cb) =>
  typeof requestAnimationFrame === 'function' ? requestAnimationFrame(() => cb()) : setTimeout(cb, 16);

export class FrameBatcher<T> {
  private queue: T[] = [];
  private scheduled = false;
  /** Frames flushed and items handed over, for the data layer and the benchmark. */
  frames = 0;
  items = 0;
  /** Milliseconds each flush took (applying the batch and drawing it), the latest few thousand. */
  readonly flushMs: number[] = [];

  constructor(
    private readonly onFlush: (items: T[]) => void,
    private readonly schedule: FrameScheduler = animationFrame,
  ) {}

  push(item: T): void {
    this.queue.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Hands over what is queued now (also called by the scheduled frame). */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const items = this.queue;
    this.queue = [];
    this.frames++;
    this.items += items.length;
    const t0 = now();
    this.onFlush(items);
    this.flushMs.push(now() - t0);
    if (this.flushMs.length > 5000) this.flushMs.splice(0, 2500);
  }

  clear(): void {
    this.queue = [];
  }
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());
