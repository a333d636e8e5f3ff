import { sleep } from '../runtime/process';

/** Pauses between tries: doubling from `firstMs` up to `maxMs`, for at most `deadlineMs` in all. */
export interface Backoff {
  readonly firstMs: number;
  readonly maxMs: number;
  readonly deadlineMs: number;
}

/**
 * The one retry loop of the Kafka admin waits. Tries `attempt` until it is done: it returns `{ value }` when
 * done and undefined when not yet. A thrown error is tried again when `retryable(e)`, thrown at once
 * otherwise. Past the deadline it throws `timedOut(lastError)`; lastError is undefined when the last try
 * was "not yet".
 */
export async function retryWithBackoff<T>(
  attempt: () => Promise<{ value: T } | undefined>,
  backoff: Backoff,
  retryable: (e: unknown) => boolean,
  timedOut: (lastError: unknown) => unknown,
): Promise<T> {
  const deadline = Date.now() + backoff.deadlineMs;
  for (let delay = backoff.firstMs; ; delay = Math.min(delay * 2, backoff.maxMs)) {
    let lastError: unknown;
    try {
      const done = await attempt();
      if (done) return done.value;
    } catch (e) {
      if (!retryable(e)) throw e;
      lastError = e;
    }
    if (Date.now() + delay > deadline) throw timedOut(lastError);
    await sleep(delay);
  }
}
