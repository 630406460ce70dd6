// Timers and AbortController are globals of every JavaScript runtime (Node, browsers) but of no
// `lib` a pure ES2022 library includes; declare just what the readiness probe uses.
interface TimerHandle {
  unref?(): unknown;
}
declare function setTimeout(callback: () => void, ms: number): TimerHandle;
declare function clearTimeout(handle: TimerHandle | undefined): void;
declare function setInterval(callback: () => void, ms: number): TimerHandle;
declare function clearInterval(handle: TimerHandle | undefined): void;
interface AbortSignal {
  readonly aborted: boolean;
}
declare class AbortController {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
}
