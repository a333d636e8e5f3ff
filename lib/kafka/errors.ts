import { KafkaJSProtocolError } from 'kafkajs';
import { retryWithBackoff } from './retry';

/**
 * The broker's answers that mean "this member must rejoin the consumer group": kafkajs's runner rejoins
 * (joinAndSync) when one of them reaches it from a fetch, a heartbeat or an eachBatch/eachMessage handler
 * (node_modules/kafkajs/src/consumer/runner.js, scheduleFetchManager: `isRebalancing(e)` or
 * `e.type === 'UNKNOWN_MEMBER_ID'`). Any other error it retries or crashes on.
 */
export const REBALANCE_ERROR_TYPES: readonly string[] = [
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'NOT_COORDINATOR_FOR_GROUP',
  // The session timed out (e.g. a batch slower than sessionTimeout): "The coordinator is not aware of this member".
  'UNKNOWN_MEMBER_ID',
];

/**
 * True when `e` is a group rebalance that kafkajs recovers from by rejoining, if the handler rethrows it.
 * Matched on kafkajs's error class and the protocol error type (never the message), and only at the top
 * level: an error wrapping one of these (e.g. KafkaJSNumberOfRetriesExceeded) is not what kafkajs rejoins on.
 */
export function isRebalanceError(e: unknown): e is KafkaJSProtocolError {
  return e instanceof KafkaJSProtocolError && REBALANCE_ERROR_TYPES.includes(e.type);
}

/** The group coordinator is still loading the group's state (a broker started moments ago): ask again. */
// kafkajs's names for codes 14, 15 and 16 (the protocol now calls them COORDINATOR_LOAD_IN_PROGRESS, ...).
const COORDINATOR_LOADING_TYPES: readonly string[] = [
  'GROUP_LOAD_IN_PROGRESS',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR_FOR_GROUP',
];

/**
 * The broker error type of a kafkajs error (`LEADER_NOT_AVAILABLE`, …), looking through the wrapper kafkajs puts
 * around an error once its own retries run out (KafkaJSNumberOfRetriesExceeded, whose `cause` is the last one).
 */
export function kafkaErrorType(e: unknown): string | undefined {
  const direct = (e as { type?: unknown } | null)?.type;
  if (typeof direct === 'string') return direct;
  const cause = (e as { cause?: unknown } | null)?.cause;
  return cause === undefined ? undefined : kafkaErrorType(cause);
}

/**
 * Runs a group-coordinator request (fetchOffsets, resetOffsets) until the coordinator has loaded, within
 * `deadlineMs`: a freshly started broker answers COORDINATOR_LOAD_IN_PROGRESS for a while (seen in the CDC
 * tests), and kafkajs's admin gives up before it is done. Any other error is thrown at once.
 */
export function whileCoordinatorLoads<T>(request: () => Promise<T>, deadlineMs = 30_000): Promise<T> {
  return retryWithBackoff(
    async () => ({ value: await request() }),
    { firstMs: 100, maxMs: 1000, deadlineMs },
    (e) => COORDINATOR_LOADING_TYPES.includes(kafkaErrorType(e) ?? ''),
    (e) => e,
  );
}
