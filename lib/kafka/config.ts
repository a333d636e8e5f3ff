import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { readKafkaState } from '../runtime/kafka-broker';

/**
 * Where Kafka is: `--bootstrap-servers` if given, else KAFKA_BOOTSTRAP_SERVERS, else the embedded broker's
 * `.run/kafka.json`, else 127.0.0.1:9092.
 */
export function resolveBootstrapServers(explicit?: string): string {
  return explicit || process.env.KAFKA_BOOTSTRAP_SERVERS || readKafkaState()?.bootstrap_servers || '127.0.0.1:9092';
}

/** A kafkajs client with this project's defaults (quiet logs, bounded connection time). */
export function createKafka(clientId: string, bootstrapServers?: string, overrides: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId,
    brokers: resolveBootstrapServers(bootstrapServers)
      .split(',')
      .map((s) => s.trim()),
    // kafkajs logs retried, transient errors at ERROR level; failures reach callers as exceptions anyway.
    logLevel: process.env.KAFKAJS_LOG_LEVEL ? Number(process.env.KAFKAJS_LOG_LEVEL) : logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    ...overrides,
  });
}
