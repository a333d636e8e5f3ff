import { expect } from 'chai';
import streamJob, { parseTrigger } from '../../jobs/stream';
import produceJob from '../../jobs/stream-produce';
import watchJob from '../../jobs/stream-watch';

import { optionDefaults as defaults } from '../../lib/cli/job';

describe('stream jobs: options and validation', () => {
  it('reads --trigger as a Spark trigger and names a bad one', () => {
    expect(parseTrigger('available-now')).to.deep.equal({ availableNow: true });
    expect(parseTrigger('processing-time=1 second')).to.deep.equal({ processingTime: '1 seconds' });
    expect(parseTrigger('processing-time=500ms')).to.deep.equal({ processingTime: '500 milliseconds' });
    expect(() => parseTrigger('continuous')).to.throw(/processing-time=<interval> or available-now.*continuous/);
  });

  it('keeps the option names and defaults the issue pins', () => {
    const s = defaults(streamJob.options);
    expect(s).to.include({
      topic: 'sensor_data',
      trigger: 'processing-time=1 second',
      output: 'data/processed/stream/',
      checkpoint: 'data/checkpoints/stream/',
      watermark: '10s',
    });
    expect(Object.keys(streamJob.options)).to.include.members(['starting-offsets', 'bootstrap-servers']);
    expect(s).to.include({ 'live-topic': 'sensor_aggregates_live', 'live-trigger': 'processing-time=500ms' });
    expect(defaults(watchJob.options)).to.include({ 'live-topic': 'sensor_aggregates_live' });
    const p = defaults(produceJob.options);
    expect(p).to.include({ topic: 'sensor_data', sensors: 100 });
    expect(Object.keys(produceJob.options)).to.include.members([
      'rate',
      'count',
      'duration',
      'seed',
      'anomaly-rate',
      'late-rate',
      'max-lateness',
      'malformed-rate',
      'bootstrap-servers',
    ]);
    expect(streamJob.needs).to.deep.equal(['spark', 'kafka']);
    expect(produceJob.needs).to.deep.equal(['kafka']);
    expect(watchJob.needs).to.deep.equal(['kafka']);
  });

  it('refuses bad arguments with a message that names them', () => {
    const s = defaults(streamJob.options) as Parameters<NonNullable<typeof streamJob.validate>>[0];
    expect(streamJob.validate?.(s)).to.equal(undefined);
    expect(streamJob.validate?.({ ...s, trigger: 'sometimes' })).to.match(/--trigger/);
    expect(streamJob.validate?.({ ...s, watermark: 'soon' })).to.match(/--watermark/);
    expect(streamJob.validate?.({ ...s, 'starting-offsets': 'middle' })).to.match(/--starting-offsets/);
    expect(streamJob.validate?.({ ...s, 'live-trigger': 'available-now' })).to.match(/--live-trigger/);
    expect(streamJob.validate?.({ ...s, 'shuffle-partitions': 0 })).to.match(/--shuffle-partitions must be a positive integer, got 0/);
    expect(streamJob.validate?.({ ...s, 'max-offsets-per-trigger': 2.5 })).to.match(/--max-offsets-per-trigger must be a positive integer/);
    expect(streamJob.validate?.({ ...s, 'max-offsets-per-trigger': 2 ** 60 })).to.match(/--max-offsets-per-trigger/);
    expect(streamJob.validate?.({ ...s, 'max-offsets-per-trigger': 250_000 })).to.equal(undefined);
    expect(streamJob.validate?.({ ...s, trigger: 'available-now', duration: '30s' })).to.match(
      /--duration applies to processing-time runs/,
    );
    expect(streamJob.validate?.({ ...s, 'until-records': 0 })).to.match(/--until-records must be a positive integer, got 0/);
    expect(streamJob.validate?.({ ...s, 'until-records': 1.5 })).to.match(/--until-records/);
    expect(streamJob.validate?.({ ...s, trigger: 'available-now', 'until-records': 10 })).to.match(
      /--until-records applies to processing-time runs/,
    );
    expect(streamJob.validate?.({ ...s, 'until-records': 20_000 })).to.equal(undefined);
    const p = defaults(produceJob.options) as Parameters<NonNullable<typeof produceJob.validate>>[0];
    expect(produceJob.validate?.(p)).to.equal(undefined);
    expect(produceJob.validate?.({ ...p, rate: -1 })).to.match(/--rate/);
    expect(produceJob.validate?.({ ...p, sensors: 0 })).to.match(/--sensors/);
    expect(produceJob.validate?.({ ...p, 'late-rate': 0.7, 'malformed-rate': 0.5 })).to.match(/must not exceed 1/);
    expect(produceJob.validate?.({ ...p, duration: 'forever' })).to.match(/--duration/);
    expect(produceJob.validate?.({ ...p, seed: Number.NaN })).to.match(/--seed must be a non-negative integer/);
    expect(produceJob.validate?.({ ...p, seed: 1.5 })).to.match(/--seed/);
    expect(produceJob.validate?.({ ...p, partitions: 0 })).to.match(/--partitions must be a positive integer, got 0/);
    expect(produceJob.validate?.({ ...p, partitions: -1 })).to.match(/--partitions/);
    const w = defaults(watchJob.options) as Parameters<NonNullable<typeof watchJob.validate>>[0];
    expect(watchJob.validate?.(w)).to.equal(undefined);
    expect(watchJob.validate?.({ ...w, rows: 0 })).to.match(/--rows/);
    expect(watchJob.validate?.({ ...w, 'until-end': true })).to.match(/--until-end .*--from-beginning/);
    expect(watchJob.validate?.({ ...w, 'until-end': true, 'from-beginning': true })).to.equal(undefined);
  });
});
