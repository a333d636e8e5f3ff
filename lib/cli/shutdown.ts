import { errorMessage } from '../util/errors';

/** Runs the shutdown handlers a job registered, last registered first, each bounded in time. */
export class ShutdownHandlers {
  private readonly handlers: Array<() => Promise<void> | void> = [];
  private ran = false;

  add(fn: () => Promise<void> | void): void {
    this.handlers.push(fn);
  }

  /** Runs each handler once; a failing or hanging handler is reported and the others still run. */
  async run(report: (line: string) => void, timeoutMs = 15_000): Promise<void> {
    if (this.ran) return;
    this.ran = true;
    for (const fn of [...this.handlers].reverse()) {
      try {
        const r = await withTimeout(Promise.resolve().then(fn), timeoutMs);
        if (r === TIMED_OUT) report(`a shutdown handler did not finish within ${timeoutMs / 1000}s; going on`);
      } catch (err) {
        report(`a shutdown handler failed: ${errorMessage(err)}`);
      }
    }
  }
}

export const TIMED_OUT = Symbol('timed out');

/** The promise's value, or TIMED_OUT when it takes longer than `ms` (the promise is left to settle alone). */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
    timer.unref();
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * SIGINT/SIGTERM while a command runs: the first signal calls `onInterrupt` (graceful), a second one
 * exits at once. `dispose()` removes the handlers.
 */
export function trapSignals(
  onInterrupt: (signal: NodeJS.Signals) => void,
  onForce: (signal: NodeJS.Signals) => void,
): { dispose(): void; signal?: NodeJS.Signals } {
  const state: { dispose(): void; signal?: NodeJS.Signals } = { dispose: () => undefined };
  const handler = (sig: NodeJS.Signals) => {
    if (state.signal) return onForce(sig);
    state.signal = sig;
    onInterrupt(sig);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  state.dispose = () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  return state;
}

/** 128 + the signal number, as shells report a command a signal ended (SIGINT → 130). */
export function signalExitCode(sig: NodeJS.Signals): number {
  return sig === 'SIGTERM' ? 143 : sig === 'SIGHUP' ? 129 : 130;
}
