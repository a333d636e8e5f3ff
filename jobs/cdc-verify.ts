import * as path from 'node:path';
import { defineJob, integerOptionProblem, JobInputError, UsageError } from '../lib/cli/job';
import { writeFileAtomic } from '../lib/cdc/atomic';
import { qualityOfState, qualityTable, sparkLogisticRegression, type SparkMlResult } from '../lib/cdc/quality';
import { readStoreReadOnly, StateStoreError } from '../lib/cdc/store';
import { readModelFile, VERIFY_TOLERANCE, verifyModel } from '../lib/cdc/verify';
import { errorMessage } from '../lib/util/errors';
import { DEFAULT_STATE_DIR, DEFAULT_MODEL_REPORT } from '../lib/cdc/defaults';

interface VerifyArgs extends Record<string, unknown> {
  'state-dir': string;
  report: string;
  'spark-ml': boolean;
  'reg-param': number;
  'max-iter': number;
}

export default defineJob<VerifyArgs>({
  name: 'cdc-verify',
  description:
    "CDC check: refit the ridge model in batch from the consumer's table, compare with model.json (exit 1 over 1e-9), report quality vs Spark ML",
  needs: ['spark'],
  options: {
    'state-dir': { type: 'string', default: DEFAULT_STATE_DIR, describe: "the consumer's --state-dir" },
    report: { type: 'string', default: DEFAULT_MODEL_REPORT, describe: 'model-quality report (ours and Spark ML side by side)' },
    'spark-ml': {
      type: 'boolean',
      default: true,
      describe: 'also train Spark ML LogisticRegression over Spark Connect (--no-spark-ml to skip)',
    },
    'reg-param': { type: 'number', default: 0.0, describe: 'Spark ML LogisticRegression regParam' },
    'max-iter': { type: 'number', default: 100, describe: 'Spark ML LogisticRegression maxIter' },
  },
  parse(args) {
    if (!(args['reg-param'] >= 0)) return new UsageError(`--reg-param must be >= 0, got ${args['reg-param']}`);
    return integerOptionProblem('max-iter', args['max-iter'], 1) ?? args;
  },
  async run(spark, args, ctx) {
    const stateDir = ctx.resolvePath(args['state-dir']);
    let loaded: ReturnType<typeof readStoreReadOnly>;
    let model: ReturnType<typeof readModelFile>;
    try {
      loaded = readStoreReadOnly(stateDir);
      model = readModelFile(stateDir);
    } catch (e) {
      if (e instanceof StateStoreError) throw new JobInputError(e.message);
      throw e;
    }
    const v = verifyModel(loaded.state, loaded.offsets, model);
    const width = Math.max(...v.checks.map((c) => c.feature.length));
    const lines = [
      `cdc-verify: batch refit of ${v.batch.n} training rows (λ = ${model.lambda}) against ${path.join(args['state-dir'], 'model.json')}`,
    ];
    lines.push(`${'coefficient'.padEnd(width)}  ${'model.json'.padStart(22)}  ${'batch refit'.padStart(22)}  rel. diff`);
    for (const c of v.checks)
      lines.push(
        `${c.feature.padEnd(width)}  ${c.model.toPrecision(15).padStart(22)}  ${c.batch.toPrecision(15).padStart(22)}  ${c.rel_diff.toExponential(2)}`,
      );
    lines.push(
      `largest relative difference: model.json ${v.max_rel_diff.toExponential(3)}, state store ${v.store_max_rel_diff.toExponential(3)} (tolerance ${VERIFY_TOLERANCE})`,
    );
    if (v.stale)
      lines.push('model.json is behind the state store (its offsets or n differ): run cdc-consume until it stops, then verify again');
    process.stdout.write(lines.join('\n') + '\n');

    let sparkMl: SparkMlResult | null = null;
    let sparkMlError: string | undefined;
    if (args['spark-ml']) {
      try {
        sparkMl = await sparkLogisticRegression(spark, loaded.state, { regParam: args['reg-param'], maxIter: args['max-iter'] });
      } catch (e) {
        sparkMlError = `${(e as Error).name}: ${errorMessage(e)}`;
        ctx.log(`cdc-verify: Spark ML LogisticRegression failed: ${sparkMlError}`);
      }
    } else sparkMlError = 'skipped (--no-spark-ml)';
    const quality = qualityOfState(loaded.state, model.lambda);
    const evaluation = quality.evaluation;
    const report = {
      generated_at: new Date().toISOString(),
      state_dir: args['state-dir'],
      features: model.features,
      target: model.target,
      split: {
        method: 'FNV-1a 32-bit hash of the decimal ID, mod 100; held out when below holdout_pct',
        holdout_pct: model.holdout_pct,
        train_rows: evaluation.train.rows,
        holdout_rows: evaluation.holdout.rows,
        unlabeled_rows: quality.unlabeled,
      },
      decision_rules: {
        threshold: 'chosen on the training rows of each model: the cut on its score that maximizes F1 (train/holdout are at it)',
        at_0_5: 'score (ours) or P(1) (Spark ML) >= 0.5',
        brier: 'mean squared error of the score read as P(1), clipped to [0, 1]',
        pr_auc: 'average precision',
      },
      ours: {
        model: 'ridge regression on standardized features, fitted exactly from sufficient statistics (incremental under CDC)',
        lambda: model.lambda,
        threshold: evaluation.threshold,
        threshold_rule: 'maximizes F1 on the training rows',
        train: evaluation.train,
        holdout: evaluation.holdout,
        at_0_5: quality.at_0_5,
      },
      spark_ml: sparkMl,
      ...(sparkMl ? {} : { spark_ml_reason: sparkMlError }),
      majority_baseline: { rule: 'predict the training majority class; P(1) = training positive rate', holdout: quality.baseline },
      verification: {
        max_rel_diff: v.max_rel_diff,
        store_max_rel_diff: v.store_max_rel_diff,
        tolerance: VERIFY_TOLERANCE,
        stale: v.stale,
        ok: v.ok,
      },
    };
    const reportPath = ctx.resolvePath(args.report);
    writeFileAtomic(reportPath, JSON.stringify(report, null, 2) + '\n');
    const table = [
      ['ridge (ours), train threshold', evaluation.threshold, evaluation.holdout],
      ['ridge (ours), 0.5', 0.5, quality.at_0_5.holdout],
      ...(sparkMl
        ? ([
            ['Spark ML LR, train threshold', sparkMl.threshold, sparkMl.holdout],
            ['Spark ML LR, 0.5', 0.5, sparkMl.at_0_5.holdout],
          ] as const)
        : []),
      ['majority baseline', null, quality.baseline],
    ] as const;
    process.stdout.write(`hold-out metrics (${evaluation.holdout.rows} rows):\n${qualityTable(table)}\n`);
    if (!sparkMl) process.stdout.write(`Spark ML LogisticRegression: ${sparkMlError}\n`);
    ctx.log(`cdc-verify: report written to ${args.report}`);
    return v.ok ? 0 : 1;
  },
});
