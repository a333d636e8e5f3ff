import { startSpark, stopSpark, readSparkState, type SparkState } from '../../lib/runtime/spark-server';
import { startKafka, stopKafka, readKafkaState, type KafkaState } from '../../lib/runtime/kafka-broker';
import { startPostgres, stopPostgres, readPostgresState, type PostgresState } from '../../lib/runtime/postgres';
import { startConnect, stopConnect, readConnectState, type ConnectState } from '../../lib/runtime/kafka-connect';
import { findKaggleCsv } from '../../lib/preprocess/input';

/**
 * The suite's real servers. Each is started on first use, or reused when already running (for example
 * from `make up` or another test run); the global teardown stops only what this run started.
 */
const startedHere = { spark: false, kafka: false, postgres: false, connect: false };

export async function ensureSpark(): Promise<SparkState> {
  const r = await startSpark();
  if (r.started) startedHere.spark = true;
  return r.state;
}

export async function ensureKafka(): Promise<KafkaState> {
  const r = await startKafka();
  if (r.started) startedHere.kafka = true;
  return r.state;
}

export async function ensurePostgres(): Promise<PostgresState> {
  const r = await startPostgres();
  if (r.started) startedHere.postgres = true;
  return r.state;
}

/** Kafka Connect with the Debezium plugin, on the suite's broker (started first). */
export async function ensureConnect(): Promise<ConnectState> {
  const kafka = await ensureKafka();
  const r = await startConnect({ bootstrapServers: kafka.bootstrap_servers });
  if (r.started) startedHere.connect = true;
  return r.state;
}

/** A test that kills and restarts Connect itself says so, so the teardown still stops the new worker. */
export function markConnectStarted(): void {
  startedHere.connect = true;
}

/** The servers this run started, with their pids, so the teardown can prove they are gone. */
export function startedServers(): Array<{ name: string; pid: number }> {
  const out: Array<{ name: string; pid: number }> = [];
  const s = readSparkState();
  const k = readKafkaState();
  if (startedHere.spark && s) out.push({ name: 'spark', pid: s.pid });
  if (startedHere.kafka && k) out.push({ name: 'kafka', pid: k.pid });
  const p = readPostgresState();
  const c = readConnectState();
  if (startedHere.postgres && p) out.push({ name: 'postgres', pid: p.pid });
  if (startedHere.connect && c) out.push({ name: 'connect', pid: c.pid });
  return out;
}

export async function stopStartedServers(): Promise<void> {
  // Connect before Kafka (its state lives there) and before PostgreSQL (it holds a replication connection).
  if (startedHere.connect) await stopConnect();
  if (startedHere.postgres) await stopPostgres();
  if (startedHere.spark) await stopSpark();
  if (startedHere.kafka) await stopKafka();
  startedHere.spark = startedHere.kafka = startedHere.postgres = startedHere.connect = false;
}

/** The Kaggle file where the project looks for it (lib/preprocess/input.ts), if present. */
export function kaggleCsvPath(): string | undefined {
  return findKaggleCsv();
}
