import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureKafka, ensureSpark } from './servers';
import { SparkSession } from '../../lib/connect';
import { sparkRemote } from '../../lib/runtime/spark-server';
import { streamKafka } from '../../lib/stream/kafka';

/** A Spark timestamp value from `collect()` in epoch milliseconds. */
export const micros = (t: unknown): number => Number((t as { micros: bigint }).micros / 1000n);

export interface StreamSuite {
  /** The suite's Spark session (set by its `before` hook). */
  readonly spark: SparkSession;
  /** A fresh temporary directory, removed after the suite. */
  tempDir(prefix: string): string;
  /** Topics to delete after the suite. */
  trackTopics(...topics: string[]): void;
}

/**
 * The setup every streaming suite shares, registered as the calling `describe`'s hooks: the real servers
 * and one Spark session before; after, the session stopped, and the suite's directories and topics removed
 * (kept when KEEP_STREAM_TEST is set, for a look at a failure).
 */
export function streamSuite(appName: string): StreamSuite {
  let spark: SparkSession | undefined;
  const dirs: string[] = [];
  const topics: string[] = [];
  before(async () => {
    await ensureSpark();
    await ensureKafka();
    spark = await SparkSession.builder().remote(sparkRemote()).appName(appName).create();
  });
  after(async () => {
    await spark?.stop();
    if (process.env.KEEP_STREAM_TEST) return;
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    if (!topics.length) return;
    const admin = streamKafka(`${appName}-cleanup`).admin();
    await admin.connect();
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  });
  return {
    get spark(): SparkSession {
      if (!spark) throw new Error(`${appName}: the Spark session is not started yet (used outside a test?)`);
      return spark;
    },
    tempDir(prefix: string): string {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    trackTopics(...names: string[]): void {
      topics.push(...names);
    },
  };
}
