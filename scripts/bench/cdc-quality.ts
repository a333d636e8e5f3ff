/**
 * Builds a consumer state from the Kaggle snapshot (+ optional changes) for the quality comparison, then
 * `cdc-verify --state-dir DIR` reports both models fairly on its hold-out:
 *
 *   node -r ts-node/register/transpile-only scripts/bench/cdc-quality.ts --state-dir /tmp/q29
 *   node -r ts-node/register/transpile-only scripts/bench/cdc-quality.ts --state-dir /tmp/q21 --features raw
 *   ./bin/spark-ts submit cdc-verify --state-dir /tmp/q29 --report reports/cdc-quality.json
 *   options: --updates N (changes after the snapshot, default 0) --seed S --csv PATH --features raw|a,b,c
 */
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createKafka } from '../../lib/kafka/config';
import { runCdcConsumer } from '../../lib/cdc/consumer';
import { parseFeatureList, RAW_FEATURE_COLUMNS } from '../../lib/cdc/features';
import { generateChanges } from '../../lib/cdc/generator';
import { produceChanges } from '../../lib/cdc/produce';
import { readKaggle } from '../../lib/cdc/measure';
import { describeKaggleCsvCandidates, findKaggleCsv } from '../../lib/preprocess/input';

async function main(): Promise<void> {
  const args = yargs(hideBin(process.argv))
    .option('state-dir', { type: 'string', demandOption: true })
    .option('updates', { type: 'number', default: 0 })
    .option('seed', { type: 'number', default: 42 })
    .option('csv', { type: 'string', describe: 'the Kaggle file (default: where the project looks for it, lib/preprocess/input.ts)' })
    .option('features', { type: 'string', describe: '"raw" for the 21 raw numeric columns, or a list (default: the consumer default)' })
    .strict()
    .parseSync();
  const csv = args.csv ?? findKaggleCsv();
  if (csv === undefined) throw new Error(`the Kaggle file is needed: not found at ${describeKaggleCsvCandidates()}; give --csv PATH`);
  const rows = readKaggle(csv);
  const topic = `cdc-quality-${randomUUID()}`;
  await produceChanges(generateChanges(rows, { seed: args.seed, updates: args.updates }), { topic, rate: 0, partitions: 3 });
  const features =
    args.features === undefined ? undefined : args.features === 'raw' ? [...RAW_FEATURE_COLUMNS] : parseFeatureList(args.features);
  const summary = await runCdcConsumer({
    topic,
    groupId: topic,
    stateDir: path.resolve(args['state-dir']),
    reset: true,
    features,
    lambda: 1,
    untilIdleSec: 3,
    checkpointEvents: 10_000,
    checkpointMs: 5_000,
    progressMs: 60_000,
    log: (l) => process.stderr.write(l + '\n'),
  });
  const m = summary.model;
  process.stdout.write(
    `${m.features.length} features, table ${m.table_rows} rows, n ${m.n}, hold-out ROC AUC ${m.metrics.holdout.roc_auc} → ${args['state-dir']}\n`,
  );
  const admin = createKafka('spark-ts-cdc-quality').admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, `${topic}_dlq`] }).catch(() => undefined);
  await admin.disconnect();
}

main().catch((e: unknown) => {
  process.stderr.write(`quality: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
