/**
 * The CDC apply measurement shared by scripts/bench/cdc-apply.ts (the full-size script) and `make bench`: a
 * snapshot (the Kaggle rows, or synthetic ones) plus N changes produced to a fresh topic, then applied by the
 * real consumer with checkpointing on.
 */
import { findKaggleCsv } from '../preprocess/input';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createKafka } from '../kafka/config';
import { runCdcConsumer } from './consumer';
import { DEFAULT_FEATURES, type CustomerRow } from './features';
import { generateChanges, prng } from './generator';
import { produceChanges } from './produce';

export function readKaggle(file: string): CustomerRow[] {
  const lines = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.length);
  const header = lines[0].split('\t');
  const rows = lines.slice(1).map((l) => {
    const cells = l.split('\t');
    const row: CustomerRow = {};
    header.forEach((h, i) => {
      const v = cells[i] ?? '';
      row[h] = /^-?\d+$/.test(v) ? Number(v) : v === '' ? null : v;
    });
    return row;
  });
  const incomes = rows
    .map((r) => r.Income)
    .filter((v): v is number => typeof v === 'number')
    .sort((a, b) => a - b);
  const median = incomes[Math.floor(incomes.length / 2)];
  for (const r of rows) if (r.Income === null) r.Income = median;
  return rows;
}

export function synthetic(count: number, seed: number): CustomerRow[] {
  const r = prng(seed);
  return Array.from({ length: count }, (_, i) => {
    const row: CustomerRow = { ID: i + 1 };
    for (const f of DEFAULT_FEATURES) row[f] = f === 'Income' ? 15_000 + Math.floor(r() * 100_000) : Math.floor(r() * 10);
    row.Response = r() < 0.15 ? 1 : 0;
    return row;
  });
}

/** The Kaggle rows when the file is there (and no synthetic size is asked for), else synthetic rows. */
export function snapshotRows(opts: { snapshotRows?: number; csv?: string; seed: number }): { rows: CustomerRow[]; source: string } {
  // Where the project looks for the Kaggle file (lib/preprocess/input.ts), unless a path is given.
  const csv = opts.csv ?? findKaggleCsv();
  if (opts.snapshotRows !== undefined || csv === undefined || !fs.existsSync(csv))
    return { rows: synthetic(opts.snapshotRows ?? 2240, opts.seed), source: 'synthetic' };
  return { rows: readKaggle(csv), source: path.basename(csv) };
}

export interface CdcApplyMeasure {
  snapshot_rows: number;
  snapshot_source: string;
  messages: number;
  events: number;
  events_per_s: number;
}

/** Produces snapshot + `updates` changes to a fresh topic, applies them into `stateDir`, deletes the topic. */
export async function measureCdcApply(opts: {
  updates: number;
  stateDir: string;
  bootstrapServers?: string;
  seed?: number;
  log: (line: string) => void;
}): Promise<CdcApplyMeasure> {
  const seed = opts.seed ?? 42;
  const { rows, source } = snapshotRows({ seed });
  const topic = `cdc-bench-${randomUUID()}`;
  try {
    const produced = await produceChanges(generateChanges(rows, { seed, updates: opts.updates }), {
      topic,
      rate: 0,
      partitions: 3,
      bootstrapServers: opts.bootstrapServers,
    });
    const summary = await runCdcConsumer({
      topic,
      stateDir: opts.stateDir,
      bootstrapServers: opts.bootstrapServers,
      lambda: 1,
      untilIdleSec: 3,
      checkpointEvents: 10_000,
      checkpointMs: 5_000,
      progressMs: 60_000,
      log: opts.log,
    });
    return {
      snapshot_rows: rows.length,
      snapshot_source: source,
      messages: produced.sent,
      events: summary.events_processed,
      events_per_s: (summary.events_processed * 1000) / Math.max(1, summary.busy_ms),
    };
  } finally {
    const admin = createKafka('spark-ts-cdc-bench', opts.bootstrapServers).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, `${topic}_dlq`] }).catch(() => undefined);
    await admin.disconnect();
  }
}
