import { KafkaJSProtocolError } from 'kafkajs';

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
