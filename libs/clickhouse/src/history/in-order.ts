/**
 * The results of `reads` in order, with `ahead` reads beyond the one awaited running (1: two at a
 * time). A read started ahead and then abandoned (the consumer stopped) cannot become an unhandled rejection.
 */
export async function* inOrder<T>(reads: readonly (() => Promise<T>)[], ahead = 1): AsyncGenerator<T> {
  const running: Promise<T>[] = [];
  let next = 0;
  const fill = (upTo: number) => {
    for (; next < reads.length && next <= upTo; next++) {
      const p = reads[next]!();
      p.catch(() => undefined); // still rejects for the await below
      running.push(p);
    }
  };
  for (let i = 0; i < reads.length; i++) {
    fill(i + ahead);
    yield await running.shift()!;
  }
}
