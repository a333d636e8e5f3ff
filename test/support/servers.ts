import { startSpark, stopSpark, readSparkState, type SparkState } from '../../lib/runtime/spark-server';
import { startKafka, stopKafka, readKafkaState, type KafkaState } from '../../lib/runtime/kafka-broker';

/**
 * The suite's real servers. Each is started on first use, or reused when already running (for example
 * from `make up` or another test run); the global teardown stops only what this run started.
 */
const startedHere = { spark: false, kafka: false };

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

/** The servers this run started, with their pids, so the teardown can prove they are gone. */
export function startedServers(): Array<{ name: string; pid: number }> {
  const out: Array<{ name: string; pid: number }> = [];
  const s = readSparkState();
  const k = readKafkaState();
  if (startedHere.spark && s) out.push({ name: 'spark', pid: s.pid });
  if (startedHere.kafka && k) out.push({ name: 'kafka', pid: k.pid });
  return out;
}

export async function stopStartedServers(): Promise<void> {
  if (startedHere.spark) await stopSpark();
  if (startedHere.kafka) await stopKafka();
  startedHere.spark = startedHere.kafka = false;
}

/** SPARK_TS_SHARED_DATA or ../shared/data/marketing_campaign.csv, if present. */
export function kaggleCsvPath(): string | undefined {
  const fs = require('node:fs') as typeof import('node:fs');
  const path = require('node:path') as typeof import('node:path');
  const candidate = process.env.SPARK_TS_KAGGLE_CSV ?? path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'marketing_campaign.csv');
  return fs.existsSync(candidate) ? candidate : undefined;
}
