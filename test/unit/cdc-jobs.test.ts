import { expect } from 'chai';
import cdcJob from '../../jobs/cdc';
import consumeJob from '../../jobs/cdc-consume';
import generateJob from '../../jobs/generate-data';
import produceJob from '../../jobs/cdc-produce';
import verifyJob from '../../jobs/cdc-verify';
import { optionDefaults, parseJobParams, subJobParams } from '../../lib/cli/job';

type CdcArgs = Parameters<NonNullable<typeof cdcJob.parse>>[0];
const cdcArgs = (over: Partial<CdcArgs> = {}): CdcArgs => ({ ...(optionDefaults(cdcJob.options) as CdcArgs), ...over });

describe('cdc jobs: parsed once, the steps with their own defaults', () => {
  it('the demonstration parses every step up front with the steps’ declared defaults', () => {
    const p = parseJobParams(cdcJob, cdcArgs({ simulated: true, updates: 10 }));
    expect(p.topic).to.equal(p.args.topic);
    expect(p.consume.args).to.include({
      topic: p.args.topic,
      reset: true,
      'until-idle': 5,
      'checkpoint-events': 10_000,
      'checkpoint-ms': 5_000,
      'progress-ms': 2_000,
    });
    expect(p.verify).to.include({ 'spark-ml': true, 'reg-param': 0, 'max-iter': 100 });
    if (!p.feed.simulated) throw new Error('expected the simulated feed');
    expect(p.feed.produce).to.include({ updates: 10, rate: 0, 'start-lsn': 1, 'insert-ratio': 0.1, 'delete-ratio': 0.05, partitions: 3 });
    const real = parseJobParams(cdcJob, cdcArgs({ table: 'customers_x' }));
    expect(real.topic).to.equal('spark_ts.public.customers_x');
    expect(real.feed.simulated).to.equal(false);
  });

  it('a step’s bad value is a usage error of the demonstration, before any server starts', () => {
    expect(cdcJob.validate?.(cdcArgs({ simulated: true, updates: -1 }))).to.match(/--updates must be a non-negative integer/);
    expect(cdcJob.validate?.(cdcArgs({ lambda: 0 }))).to.match(/--lambda must be a finite number > 0/);
    expect(cdcJob.validate?.(cdcArgs({ table: 'no such table' }))).to.be.a('string');
  });

  it('cdc-consume parses --features once; generate-data reads its rates once', () => {
    const c = subJobParams(consumeJob, { topic: 't', 'state-dir': 'd', features: 'Income, Recency' });
    expect(c.features).to.deep.equal(['Income', 'Recency']);
    expect(consumeJob.validate?.({ ...c.args, features: 'Income,Income' })).to.match(/names Income twice/);
    const g = subJobParams(generateJob, { rows: 10 });
    expect(g.rates.missing).to.equal(g.args['missing-rate']);
    expect(generateJob.validate?.({ ...g.args, rows: -1 })).to.match(/--rows/);
  });

  it('integer options are checked: cdc-produce --partitions, cdc-consume --progress-ms, cdc-verify --max-iter and --reg-param', () => {
    const p = subJobParams(produceJob, {});
    expect(produceJob.validate?.({ ...p, partitions: 0 })).to.match(/--partitions must be a positive integer, got 0/);
    const c = subJobParams(consumeJob, { topic: 't', 'state-dir': 'd' });
    expect(consumeJob.validate?.({ ...c.args, 'progress-ms': Number.NaN })).to.match(/--progress-ms must be a positive integer, got NaN/);
    const v = subJobParams(verifyJob, {});
    expect(verifyJob.validate?.(v)).to.equal(undefined);
    expect(verifyJob.validate?.({ ...v, 'max-iter': -1 })).to.match(/--max-iter must be a positive integer, got -1/);
    expect(verifyJob.validate?.({ ...v, 'reg-param': -1 })).to.match(/--reg-param must be >= 0/);
  });
});
