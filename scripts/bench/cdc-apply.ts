/**
 * CDC apply-rate benchmark: the Kaggle snapshot (2,240 customers, read straight from the CSV; empty
 * Income filled with the median) plus N updates (default 1M) are produced to a fresh topic, then the
 * consumer applies them with checkpointing on (SQLite commit per batch, model.json every
 * --checkpoint-events / --checkpoint-ms). Prints the sustained apply rate, RSS and consumer lag.
 *
 *   node -r ts-node/register/transpile-only scripts/bench/cdc-apply.ts --updates 1000000
 *   options: --updates N --snapshot-rows N (synthetic rows instead of the CSV) --csv PATH --seed S
 *            --checkpoint-events N --checkpoint-ms MS --commit-events N --commit-ms MS --keep-topic
 *            --out reports/cdc-bench.json
 *            --topic NAME (apply a topic produced by an earlier --keep-topic run; nothing is produced)
 * Besides the wall-clock rate it reports the consumer's CPU seconds (user + system of this process over
 * the apply) and events per CPU second: on a shared, loaded machine that is the figure that compares.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createKafka } from '../../lib/kafka/config';
import { runCdcConsumer, type ProgressSample } from '../../lib/cdc/consumer';
import { generateChanges } from '../../lib/cdc/generator';
import { snapshotRows } from '../../lib/cdc/measure';
import { produceChanges } from '../../lib/cdc/produce';
import { writeFileAtomic } from '../../lib/cdc/atomic';
import { ROOT } from '../../lib/runtime/paths';

async function main(): Promise<void> {
  const args = yargs(hideBin(process.argv))
    .option('updates', { type: 'number', default: 1_000_000 })
    .option('snapshot-rows', { type: 'number', describe: 'synthetic snapshot of this size instead of the Kaggle CSV' })
    .option('csv', { type: 'string', describe: 'the Kaggle file (default: where the project looks for it, lib/preprocess/input.ts)' })
    .option('seed', { type: 'number', default: 42 })
    .option('checkpoint-events', { type: 'number', default: 10_000 })
    .option('checkpoint-ms', { type: 'number', default: 5_000 })
    .option('commit-events', { type: 'number', describe: "store commit every N events (default: the consumer's, 50,000)" })
    .option('commit-ms', { type: 'number', describe: "or every M ms (default: the consumer's, 1,000)" })
    .option('max-bytes', { type: 'number', describe: "largest fetch response in bytes (default: the consumer's, 10 MiB)" })
    .option('max-bytes-per-partition', {
      type: 'number',
      describe: "largest fetch per partition in bytes (default: the consumer's, 4 MiB)",
    })
    .option('until-idle', {
      type: 'number',
      default: 5,
      describe: 'stop after S seconds without events (raise it on a loaded machine, where a fetch can take that long)',
    })
    .option('keep-topic', { type: 'boolean', default: false })
    .option('topic', { type: 'string', describe: 'an existing topic to apply (from an earlier --keep-topic run)' })
    .option('out', { type: 'string', default: 'reports/cdc-bench.json' })
    .strict()
    .parseSync();
  const { rows, source } = snapshotRows({ snapshotRows: args['snapshot-rows'], csv: args.csv, seed: args.seed });
  const topic = args.topic ?? `cdc-bench-${randomUUID()}`;
  const stateDir = path.join(os.tmpdir(), `${topic}-${randomUUID()}`);
  const log = (l: string) => process.stderr.write(l + '\n');
  let produced: { sent: number; elapsed_ms: number };
  if (args.topic) {
    const admin = createKafka('spark-ts-cdc-bench').admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    produced = { sent: offsets.reduce((s, o) => s + Number(o.high) - Number(o.low), 0), elapsed_ms: Number.NaN };
    log(`bench: applying the existing topic ${topic} (${produced.sent} messages)`);
  } else {
    log(`bench: ${rows.length} snapshot rows (${source}) + ${args.updates} changes → ${topic}`);
    produced = await produceChanges(generateChanges(rows, { seed: args.seed, updates: args.updates }), {
      topic,
      rate: 0,
      partitions: 3,
      onProgress: (sent) => {
        if (sent % 100_000 < 1000) log(`bench: produced ${sent}`);
      },
    });
    log(`bench: produced ${produced.sent} messages in ${(produced.elapsed_ms / 1000).toFixed(1)} s`);
  }
  // Garbage collection during the apply: pause time by kind (scavenges of the young generation, mark-compacts of the old).
  const gc = { minor_ms: 0, major_ms: 0, count: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) gc.minor_ms += e.duration;
      else gc.major_ms += e.duration;
      gc.count++;
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const cpu0 = process.cpuUsage();
  const load0 = os.loadavg();

  const samples: ProgressSample[] = [];
  let peakRss = process.memoryUsage.rss();
  const summary = await runCdcConsumer({
    topic,
    stateDir,
    // A fresh group, so a topic can be applied again (--topic).
    groupId: `cdc-bench-${randomUUID()}`,
    lambda: 1,
    untilIdleSec: args['until-idle'],
    checkpointEvents: args['checkpoint-events'],
    checkpointMs: args['checkpoint-ms'],
    commitEvents: args['commit-events'],
    commitMs: args['commit-ms'],
    maxBytes: args['max-bytes'],
    maxBytesPerPartition: args['max-bytes-per-partition'],
    progressMs: 2000,
    log,
    onProgress: (s) => {
      samples.push(s);
      peakRss = Math.max(peakRss, s.rss_bytes);
    },
  });
  const cpu = process.cpuUsage(cpu0);
  gcObserver.disconnect();
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const dbBytes = ['state.db', 'state.db-wal'].reduce(
    (s, f) => s + (fs.existsSync(path.join(stateDir, f)) ? fs.statSync(path.join(stateDir, f)).size : 0),
    0,
  );
  const result = {
    generated_at: new Date().toISOString(),
    snapshot_rows: rows.length,
    snapshot_source: source,
    changes: args.updates,
    messages: produced.sent,
    produce: args.topic
      ? null
      : { elapsed_s: produced.elapsed_ms / 1000, messages_per_s: Math.round((produced.sent * 1000) / produced.elapsed_ms) },
    apply: {
      events: summary.events_processed,
      busy_s: summary.busy_ms / 1000,
      events_per_s: Math.round((summary.events_processed * 1000) / Math.max(1, summary.busy_ms)),
      cpu_s: Math.round(cpuS * 10) / 10,
      events_per_cpu_s: Math.round(summary.events_processed / cpuS),
      // CPU from the first applied batch to the end of the last (start-up, group join and the idle tail excluded).
      busy_cpu_s: Math.round(summary.busy_cpu_ms / 100) / 10,
      events_per_busy_cpu_s: Math.round((summary.events_processed * 1000) / Math.max(1, summary.busy_cpu_ms)),
      load_average_start_end: [load0[0], os.loadavg()[0]].map((l) => Math.round(l * 100) / 100),
      checkpoints: summary.checkpoints,
      checkpoint_events: args['checkpoint-events'],
      checkpoint_ms: args['checkpoint-ms'],
      commit_events: args['commit-events'] ?? null,
      commit_ms: args['commit-ms'] ?? null,
      max_bytes: args['max-bytes'] ?? null,
      max_bytes_per_partition: args['max-bytes-per-partition'] ?? null,
      gc: { count: gc.count, minor_ms: Math.round(gc.minor_ms), major_ms: Math.round(gc.major_ms) },
      peak_rss_mb: Math.round(peakRss / 2 ** 20),
      max_lag: Math.max(0, ...samples.map((s) => s.lag)),
      final_lag: samples.length ? samples[samples.length - 1].lag : null,
      state_db_mb: Math.round(dbBytes / 2 ** 20),
      samples: samples.map((s) => ({
        t_s: s.elapsed_ms / 1000,
        events: s.events,
        events_per_s: Math.round(s.events_per_s),
        lag: s.lag,
        rss_mb: Math.round(s.rss_bytes / 2 ** 20),
      })),
    },
    model: {
      n: summary.model.n,
      table_rows: summary.model.table_rows,
      events_applied: summary.model.events_applied,
      deletes_pruned: summary.model.deletes_pruned,
      holdout_auc: summary.model.metrics.holdout.roc_auc,
    },
  };
  writeFileAtomic(path.resolve(ROOT, args.out), JSON.stringify(result, null, 2) + '\n');
  const { samples: _s, ...applyShort } = result.apply;
  process.stdout.write(JSON.stringify({ ...result, apply: applyShort }, null, 2) + '\n');
  fs.rmSync(stateDir, { recursive: true, force: true });
  if (!args['keep-topic'] && !args.topic) {
    const admin = createKafka('spark-ts-cdc-bench').admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: [topic, `${topic}_dlq`] })
      .catch((e: Error) => log(`bench: could not delete ${topic}: ${e.message}`));
    await admin.disconnect();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
