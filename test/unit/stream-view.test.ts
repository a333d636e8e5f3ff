import { expect } from 'chai';
import {
  LiveViewState,
  aggregateLine,
  alertLine,
  parseAggregate,
  parseAlert,
  parseLiveAggregate,
  renderLiveView,
} from '../../lib/stream/live-view';
import { ProgressLog, condenseProgress, formatLatency, percentiles } from '../../lib/stream/metrics';
import { statusLine } from '../../lib/stream/run';
import { aggregate, expectedWindows, expectedZscoreAlerts, sampleStddev } from '../../lib/stream/expected';
import { invalidReasonSql } from '../../lib/stream/pipeline';
import type { AggregateMessage, AlertMessage, SensorReading } from '../../lib/stream/sensors';
import type { StreamingQueryProgress } from '../../lib/connect';

const agg = (sensor: string, start: string, lastTs: number): AggregateMessage => ({
  sensor_id: sensor,
  window_start: start,
  window_end: new Date(Date.parse(start) + 10_000).toISOString(),
  readings: 10,
  temperature_avg: 21.5,
  temperature_min: 20.0625,
  temperature_max: 22.25,
  temperature_stddev: 0.41,
  humidity_avg: 48.2,
  pressure_avg: 1012.4,
  last_event_ts: lastTs,
});
const alert: AlertMessage = {
  sensor_id: 'sensor-002',
  rule: 'zscore',
  metric: 'temperature',
  value: 35.5,
  ts: Date.UTC(2026, 0, 1, 12, 0, 4),
  seq: 7,
  zscore: 18.3,
  window_start: '2026-01-01T12:00:00.000Z',
  window_end: '2026-01-01T12:00:10.000Z',
};

describe('stream live view', () => {
  it('keeps the newest window per sensor, the recent alerts and the latencies', () => {
    const s = new LiveViewState(2);
    const t = Date.UTC(2026, 0, 1, 12, 0, 10);
    expect(s.addAggregate(agg('sensor-001', '2026-01-01T12:00:10.000Z', t + 9000), t + 21_000)).to.equal(12_000);
    // An older window arriving later does not replace the newer one, but its latency counts.
    s.addAggregate(agg('sensor-001', '2026-01-01T12:00:00.000Z', t - 1000), t + 22_000);
    expect(s.latest.get('sensor-001')?.aggregate.window_start).to.equal('2026-01-01T12:00:10.000Z');
    expect(s.latencies).to.deep.equal([12_000, 23_000]);
    for (let i = 0; i < 3; i++) s.addAlert({ ...alert, seq: i }, t);
    expect(s.alerts.map((a) => a.alert.seq)).to.deep.equal([1, 2]);
    expect(s.alertsReceived).to.equal(3);
  });

  it('renders the tables with every sensor row, the alerts and the latency percentiles', () => {
    const s = new LiveViewState();
    const t = Date.UTC(2026, 0, 1, 12, 0, 20);
    s.addAggregate(agg('sensor-001', '2026-01-01T12:00:00.000Z', t - 11_000), t);
    s.addAggregate(agg('sensor-002', '2026-01-01T12:00:00.000Z', t - 12_000), t);
    s.addAlert(alert, t);
    const text = renderLiveView(s, { rows: 20, now: t });
    expect(text).to.match(/sensor-001.*12:00:00–12:00:10.*21\.50.*20\.06.*22\.25.*11000/);
    expect(text).to.match(/sensor-002.*12000/);
    expect(text).to.match(/12:00:04.*sensor-002.*zscore.*temperature.*35\.50.*18\.30/);
    expect(text).to.contain('p50 11500 ms');
    expect(renderLiveView(new LiveViewState(), { rows: 5, now: t })).to.contain('no aggregates yet');
  });

  it('live messages: the open window per sensor, the closed one on final, stale updates after final ignored, the processed rate', () => {
    const s = new LiveViewState();
    const t = Date.UTC(2026, 0, 1, 12, 0, 10);
    const live = (start: string, readings: number, final: boolean) => ({ ...agg('sensor-001', start, t + 500), readings, final });
    expect(s.addLive(live('2026-01-01T12:00:10.000Z', 4, false), t + 1500)).to.equal(1000);
    s.addLive(live('2026-01-01T12:00:10.000Z', 10, false), t + 3500);
    expect(s.open.get('sensor-001')?.aggregate.readings).to.equal(10);
    expect(s.processedRate()).to.equal(3);
    s.addLive(live('2026-01-01T12:00:10.000Z', 11, true), t + 21_000);
    expect(s.open.has('sensor-001')).to.equal(false);
    expect(s.latest.get('sensor-001')?.aggregate.readings).to.equal(11);
    // A running update of a window already final is stale: ignored.
    s.addLive(live('2026-01-01T12:00:10.000Z', 10, false), t + 22_000);
    expect(s.open.has('sensor-001')).to.equal(false);
    expect(s.windowsClosed).to.equal(1);
    expect(parseLiveAggregate(JSON.stringify(live('2026-01-01T12:00:10.000Z', 1, true)))?.final).to.equal(true);
    expect(parseLiveAggregate(JSON.stringify(agg('sensor-001', '2026-01-01T12:00:10.000Z', t)))).to.equal(undefined);
    expect(renderLiveView(s, { rows: 5, now: t })).to.match(/sensor-001 .* - .*12:00:10–12:00:20 .*11 /);
  });

  it('prints plain lines off a TTY and ignores messages that are not its JSON', () => {
    expect(aggregateLine(agg('sensor-009', '2026-01-01T12:00:00.000Z', 0), 1234.4)).to.match(
      /^aggregate sensor-009 2026-01-01T12:00:00.000Z\.\.2026-01-01T12:00:10.000Z readings=10 .*latency_ms=1234$/,
    );
    expect(alertLine(alert)).to.equal('alert zscore sensor-002 temperature=35.50 z=18.30 ts=2026-01-01T12:00:04.000Z seq=7');
    expect(parseAggregate('not json')).to.equal(undefined);
    expect(parseAggregate('{"sensor_id":"x"}')).to.equal(undefined);
    expect(parseAlert(JSON.stringify(alert))).to.deep.equal(alert);
  });
});

describe('stream metrics and reference model', () => {
  it('condenses progress (rates summed over sources) and keeps each batch once', () => {
    const p = {
      id: 'q',
      runId: 'r',
      name: 'n',
      timestamp: '2026-01-01T00:00:00Z',
      batchId: 3,
      batchDuration: 812,
      durationMs: { triggerExecution: 812 },
      eventTime: { watermark: '2026-01-01T00:00:00.000Z' },
      stateOperators: [{ numRowsTotal: 5, numRowsDroppedByWatermark: 1 }],
      sources: [
        { numInputRows: 100, inputRowsPerSecond: 50, processedRowsPerSecond: 120 },
        { numInputRows: 20, inputRowsPerSecond: 10, processedRowsPerSecond: 30 },
      ],
    } as unknown as StreamingQueryProgress;
    const c = condenseProgress('aggregates_10s', p);
    expect(c).to.include({
      numInputRows: 120,
      inputRowsPerSecond: 60,
      processedRowsPerSecond: 150,
      batchDurationMs: 812,
      stateRows: 5,
      rowsDroppedByWatermark: 1,
    });
    const log = new ProgressLog();
    expect(log.add('a', p)).to.not.equal(undefined);
    expect(log.add('a', p)).to.equal(undefined);
    expect(log.summary().a.input_rows).to.equal(120);
    expect(percentiles([1, 2, 3, 4, 5])).to.include({ p50: 3, count: 5, max: 5 });
  });

  it('formats latencies in the unit that reads best, and says a run without a live query has no live latency', () => {
    expect([null, 0, 547.4, 9_999, 13_600, 119_000, 7_199_000, 90_000_000, 29_056_670_238].map(formatLatency)).to.deep.equal([
      '-',
      '0 ms',
      '547 ms',
      '9999 ms',
      '13.6 s',
      '119.0 s',
      '120.0 min',
      '25.0 h',
      '336.3 d',
    ]);
    const none = percentiles([]);
    const ages = percentiles([29_056_670_238, 29_057_104_365]);
    const live = {
      basis: '',
      live: percentiles([400, 600]),
      updates: none,
      newest_window_updates: none,
      older_window_updates: none,
      final: none,
    };
    const closed = { basis: '', record_timestamp: ages, received: ages };
    const backfill = statusLine({}, closed, { ...live, live: ages }, false);
    expect(backfill).to.contain('| no live query (available-now) |').and.contain('closed windows (2) event age at receipt p50 336.3 d');
    expect(backfill).to.not.contain('live latency');
    expect(statusLine({}, closed, live, true)).to.contain('| live latency (2 updates) p50 500 ms p95 590 ms p99 598 ms |');
  });

  it("the reference model drops late rows with the previous batch's watermark and emits only closed windows", () => {
    const r = (ts: number, seq: number): SensorReading => ({
      sensor_id: 's',
      site: 'x',
      ts,
      temperature: seq,
      humidity: 50,
      pressure: 1000,
      battery: 90,
      seq,
    });
    // Batch 0: up to 54 s. Batch 1: up to 60 s (late filter: −∞). Batch 2: 15 s is late against 44 s (dropped), 47 s is not.
    const windows = expectedWindows([[r(1000, 0), r(54_000, 1)], [r(60_000, 2)], [r(15_000, 3), r(47_000, 4), r(500_000, 5)]], {
      windowMs: 10_000,
      watermarkMs: 10_000,
    });
    expect(windows.map((w) => `${w.window_start}:${w.readings.map((x) => x.seq).join(',')}`)).to.deep.equal([
      '0:0',
      '40000:4',
      '50000:1',
      '60000:2',
    ]);
    const a = aggregate({ sensor_id: 's', window_start: 0, window_end: 10_000, readings: [r(1, 1), r(2, 2), r(3, 6)] });
    expect(a).to.include({ readings: 3, temperature_avg: 3, temperature_min: 1, temperature_max: 6 });
    expect(sampleStddev([1, 2, 6])).to.be.closeTo(Math.sqrt(7), 1e-12);
    // A spike among flat readings is a zscore alert; the flat readings are not.
    const flat = [0, 1, 2, 3, 4, 5].map((i) => ({ ...r(i * 1000, i), temperature: 20 + (i % 2) * 0.0625 }));
    flat.push({ ...r(6000, 6), temperature: 30 });
    const z = expectedZscoreAlerts([{ sensor_id: 's', window_start: 0, window_end: 10_000, readings: flat }]);
    expect(z.map((x) => `${x.seq}:${x.metric}`)).to.deep.equal(['6:temperature']);
  });

  it('the DLQ rule is one SQL CASE that checks parse, fields, types and bounds in that order', () => {
    const sql = invalidReasonSql();
    const order = ['THEN NULL', "'not_json'", "'missing_field:sensor_id'", "'wrong_type:ts'", "'out_of_bounds:temperature'"].map((s) =>
      sql.indexOf(s),
    );
    expect(order.every((i) => i >= 0)).to.equal(true);
    expect([...order].sort((x, y) => x - y)).to.deep.equal(order);
  });
});
