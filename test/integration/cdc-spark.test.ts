import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ensureKafka, ensureSpark } from '../support/servers';
import { SparkSession } from '../../lib/connect/session';
import { DEFAULT_FEATURES, RAW_FEATURE_COLUMNS, type CustomerRow } from '../../lib/cdc/features';
import { parseJobParams, type JobContext } from '../../lib/cli/job';
import produceJob, { loadCustomerRows } from '../../jobs/cdc-produce';
import consumeJob from '../../jobs/cdc-consume';
import verifyJob from '../../jobs/cdc-verify';
import { readModelFile } from '../../lib/cdc/verify';
import { deleteTopics, syntheticCustomers } from './cdc-support';
import { sparkRemote } from '../../lib/runtime/spark-server';

describe('cdc jobs with Spark (produce from Parquet, consume, verify + Spark ML)', function () {
  this.timeout(300_000);
  let spark: SparkSession;
  let tmp: string;
  let ctx: JobContext;
  const logs: string[] = [];
  before(async () => {
    await ensureSpark();
    const kafka = await ensureKafka();
    spark = await SparkSession.builder().remote(sparkRemote()).appName('cdc-test').getOrCreate();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), `cdc-spark-${randomUUID()}-`));
    ctx = {
      signal: new AbortController().signal,
      verbose: false,
      root: process.cwd(),
      resolvePath: (p) => path.resolve(process.cwd(), p),
      bootstrapServers: kafka.bootstrap_servers,
      interactive: false,
      log: (l) => logs.push(l),
      onShutdown: () => undefined,
    };
  });
  const topics: string[] = [];
  after(async () => {
    await deleteTopics(topics);
    await spark?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('reads the customers Parquet through Spark, streams changes, and verifies the consumer against a batch refit', async () => {
    // A small preprocessed-like table: the raw columns, a date, and scaled columns that must be dropped.
    const rows: CustomerRow[] = syntheticCustomers(400, 3).map((r) => ({ ...r, Income_norm: 0.5, Income_std: 0.1 }));
    const ddl = [
      'ID BIGINT',
      'Education STRING',
      'Marital_Status STRING',
      'Dt_Customer DATE',
      'Year_Birth INT',
      ...RAW_FEATURE_COLUMNS.map((f) => `${f} ${f === 'Income' ? 'DOUBLE' : 'INT'}`),
      'Response INT',
      'Income_norm DOUBLE',
      'Income_std DOUBLE',
    ].join(', ');
    const input = path.join(tmp, 'customers');
    await spark
      .createDataFrame(
        rows.map((r) => ({ ...r, Dt_Customer: new Date(`${r.Dt_Customer as string}T00:00:00Z`) })),
        ddl,
      )
      .write.mode('overwrite')
      .parquet(input);
    const loaded = await loadCustomerRows(spark, input);
    expect(loaded).to.have.length(400);
    const first = loaded.find((r) => r.ID === 1)!;
    expect(first).to.not.have.property('Income_norm');
    expect(first).to.not.have.property('Income_std');
    expect(first.Dt_Customer).to.equal('2013-05-01');
    expect(first.Income).to.equal(rows[0].Income);

    const topic = `cdc-spark-${randomUUID()}`;
    topics.push(topic);
    const produceArgs = {
      input,
      updates: 800,
      rate: 0,
      seed: 3,
      'start-lsn': 1,
      'insert-ratio': 0.1,
      'delete-ratio': 0.05,
      'replay-rate': 0.02,
      'malformed-rate': 0,
      topic,
      partitions: 3,
    };
    expect(produceJob.validate?.(produceArgs)).to.equal(undefined);
    expect(await produceJob.run(spark, produceArgs, ctx)).to.equal(0);
    expect(logs.some((l) => /sent \d+ messages .* snapshot 400/.test(l))).to.equal(true);

    const stateDir = path.join(tmp, 'models');
    const consumeArgs = {
      topic,
      'state-dir': stateDir,
      lambda: 1,
      reset: false,
      'until-idle': 3,
      'checkpoint-events': 200,
      'checkpoint-ms': 1000,
      'progress-ms': 1000,
    };
    expect(await consumeJob.run(spark, parseJobParams(consumeJob, consumeArgs), ctx)).to.equal(0);
    const model = readModelFile(stateDir);
    expect(model.n).to.be.above(250);

    const report = path.join(tmp, 'cdc-model.json');
    const code = await verifyJob.run(spark, { 'state-dir': stateDir, report, 'spark-ml': true, 'reg-param': 0, 'max-iter': 50 }, ctx);
    expect(code).to.equal(0);
    const r = JSON.parse(fs.readFileSync(report, 'utf8'));
    expect(r.verification.ok).to.equal(true);
    expect(r.verification.max_rel_diff).to.be.at.most(1e-9);
    expect(r.ours.holdout.rows + r.ours.train.rows).to.equal(model.table_rows);
    expect(r.spark_ml, r.spark_ml_reason).to.not.equal(null);
    expect(r.spark_ml.holdout.rows).to.equal(r.ours.holdout.rows);
    expect(r.spark_ml.coefficients).to.have.length(DEFAULT_FEATURES.length);
    expect(r.spark_ml.holdout.roc_auc).to.be.within(0, 1);

    // A model.json that drifted from the table (edited by hand here) fails verification: exit 1.
    const file = path.join(stateDir, 'model.json');
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    m.coefficients[0] *= 1 + 1e-6;
    fs.writeFileSync(file, JSON.stringify(m));
    expect(await verifyJob.run(spark, { 'state-dir': stateDir, report, 'spark-ml': false, 'reg-param': 0, 'max-iter': 50 }, ctx)).to.equal(
      1,
    );
  });
});
