import { expect } from 'chai';
import { SensorSimulator, SeededRandom, quantize, MALFORMED_KINDS, type EventKind } from '../../lib/stream/simulate';
import { TokenBucket, parseDuration, sparkInterval } from '../../lib/stream/rate';
import { PHYSICAL_BOUNDS, READING_FIELDS, type SensorReading } from '../../lib/stream/sensors';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

function run(seed: number, n: number, extra: Partial<ConstructorParameters<typeof SensorSimulator>[0]> = {}) {
  const sim = new SensorSimulator({
    sensors: 20,
    seed,
    anomalyRate: 0.01,
    lateRate: 0.05,
    maxLatenessMs: 30_000,
    malformedRate: 0.01,
    record: true,
    ...extra,
  });
  for (let i = 0; i < n; i++) sim.next(T0 + i * 10);
  return sim;
}

describe('stream simulation', () => {
  it('is deterministic: the same seed gives the same events byte for byte, another seed does not', () => {
    const a = run(7, 5000).events.map((e) => `${e.key}|${e.value}|${e.kind}`);
    const b = run(7, 5000).events.map((e) => `${e.key}|${e.value}|${e.kind}`);
    const c = run(8, 5000).events.map((e) => `${e.key}|${e.value}|${e.kind}`);
    expect(a).to.deep.equal(b);
    expect(a).to.not.deep.equal(c);
  });

  it('injects each fault kind at its configured rate (within a binomial tolerance)', () => {
    const n = 100_000;
    const sim = run(1, n);
    const check = (observed: number, p: number) => {
      const sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(observed - n * p), `observed ${observed}, expected ${n * p}`).to.be.lessThan(5 * sd);
    };
    const c = sim.counts;
    check(c.not_json + c.missing_field + c.wrong_type, 0.01);
    check(c.spike + c.out_of_bounds, 0.01);
    check(c.late, 0.05);
    expect(Object.values(c).reduce((s, x) => s + x, 0)).to.equal(n);
    expect(sim.events).to.have.length(n);
  });

  it("keys messages by sensor_id and numbers each sensor's readings in order", () => {
    const sim = run(3, 2000);
    const lastSeq = new Map<string, number>();
    for (const e of sim.events) {
      expect(e.key).to.equal(e.reading.sensor_id);
      const prev = lastSeq.get(e.key) ?? -1;
      expect(e.reading.seq).to.equal(prev + 1);
      lastSeq.set(e.key, e.reading.seq);
    }
    expect(lastSeq.size).to.equal(20);
  });

  it('sends valid readings as JSON with every field, quantized to 1/16 and within physical bounds', () => {
    const sim = run(5, 5000);
    for (const e of sim.events.filter((x) => x.kind === 'normal' || x.kind === 'late' || x.kind === 'spike')) {
      const r = JSON.parse(e.value) as SensorReading;
      expect(Object.keys(r)).to.deep.equal(READING_FIELDS.map((f) => f.name));
      for (const m of ['temperature', 'humidity', 'pressure', 'battery'] as const) {
        expect(r[m]).to.equal(quantize(r[m]));
        expect(r[m]).to.be.within(PHYSICAL_BOUNDS[m].min, PHYSICAL_BOUNDS[m].max);
      }
      expect(Number.isInteger(r.ts) && Number.isInteger(r.seq)).to.equal(true);
    }
  });

  it('makes late events earlier than their clock by 1 ms .. max lateness, and on-time ones exactly on it', () => {
    const sim = new SensorSimulator({
      sensors: 5,
      seed: 9,
      anomalyRate: 0,
      lateRate: 0.3,
      maxLatenessMs: 20_000,
      malformedRate: 0,
      record: true,
    });
    for (let i = 0; i < 3000; i++) {
      const now = T0 + i * 100;
      const e = sim.next(now);
      if (e.kind === 'late') expect(now - e.reading.ts).to.be.within(1, 20_000);
      else expect(e.reading.ts).to.equal(now);
    }
  });

  it('malformed records are really malformed: not JSON, a missing field, or a wrong-typed field', () => {
    const sim = new SensorSimulator({
      sensors: 5,
      seed: 11,
      anomalyRate: 0,
      lateRate: 0,
      maxLatenessMs: 1000,
      malformedRate: 1,
      record: true,
    });
    for (let i = 0; i < 600; i++) sim.next(T0 + i);
    for (const kind of MALFORMED_KINDS) expect(sim.counts[kind], kind).to.be.greaterThan(100);
    for (const e of sim.events) {
      if (e.kind === 'not_json') {
        expect(() => JSON.parse(e.value)).to.throw();
      } else if (e.kind === 'missing_field') {
        expect(JSON.parse(e.value)).to.not.have.property(e.field as string);
      } else if (e.kind === 'wrong_type') {
        expect(typeof JSON.parse(e.value)[e.field as string]).to.equal('string');
      }
    }
  });

  it('spikes stay in bounds but far from the reading; out-of-bounds anomalies leave the bounds', () => {
    const sim = new SensorSimulator({
      sensors: 5,
      seed: 12,
      anomalyRate: 1,
      lateRate: 0,
      maxLatenessMs: 1000,
      malformedRate: 0,
      record: true,
    });
    for (let i = 0; i < 400; i++) sim.next(T0 + i);
    const kinds = new Set<EventKind>(sim.events.map((e) => e.kind));
    expect([...kinds].sort()).to.deep.equal(['out_of_bounds', 'spike']);
    for (const e of sim.events) {
      const m = e.field as 'temperature' | 'humidity' | 'pressure' | 'battery';
      const v = (JSON.parse(e.value) as SensorReading)[m];
      const b = PHYSICAL_BOUNDS[m];
      if (e.kind === 'out_of_bounds') expect(v < b.min || v > b.max, `${m}=${v}`).to.equal(true);
      else expect(v).to.be.within(b.min, b.max);
    }
  });

  it('follows a daily cycle: afternoon readings are warmer than night ones', () => {
    const sim = new SensorSimulator({ sensors: 3, seed: 2, anomalyRate: 0, lateRate: 0, maxLatenessMs: 1000, malformedRate: 0 });
    const at = (hour: number) => {
      let s = 0;
      for (let i = 0; i < 300; i++) s += sim.next(Date.UTC(2026, 0, 15, hour, 0, i)).reading.temperature;
      return s / 300;
    };
    expect(at(15) - at(3)).to.be.greaterThan(7);
  });

  it('rejects bad options with a message naming them', () => {
    expect(() => new SensorSimulator({ sensors: 0, seed: 1, anomalyRate: 0, lateRate: 0, maxLatenessMs: 1, malformedRate: 0 })).to.throw(
      /sensors/,
    );
    expect(
      () => new SensorSimulator({ sensors: 1, seed: 1, anomalyRate: 0.6, lateRate: 0.6, maxLatenessMs: 1, malformedRate: 0 }),
    ).to.throw(/exceed 1/);
  });

  it('SeededRandom is uniform enough and gaussian has mean 0, sd 1', () => {
    const r = new SeededRandom(123);
    let s = 0;
    let s2 = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const g = r.gaussian();
      s += g;
      s2 += g * g;
    }
    expect(Math.abs(s / n)).to.be.lessThan(0.03);
    expect(Math.abs(s2 / n - 1)).to.be.lessThan(0.03);
  });
});

describe('stream rate and durations', () => {
  it('a token bucket paces takes at its rate (simulated clock)', async () => {
    let t = 0;
    const bucket = new TokenBucket(1000, 100, () => t);
    expect(bucket.delayFor(100)).to.equal(0);
    expect(await bucket.take(100)).to.equal(true);
    expect(bucket.delayFor(50)).to.equal(50);
    t += 50;
    expect(bucket.delayFor(50)).to.equal(0);
    t += 10_000;
    // Refill is capped at the burst.
    expect(bucket.delayFor(100)).to.equal(0);
    expect(bucket.delayFor(101)).to.be.greaterThan(0);
  });

  it('achieves its rate in real time within 15 %', async () => {
    const bucket = new TokenBucket(2000, 100);
    const t0 = performance.now();
    let taken = 0;
    while (taken < 1000) {
      await bucket.take(50);
      taken += 50;
    }
    // 1000 tokens at 2000/s, the first 100 free: about 450 ms.
    const seconds = (performance.now() - t0) / 1000;
    expect(seconds).to.be.within(0.45 * 0.85, 0.45 * 1.3);
  });

  it('rate 0 never waits; abort ends a wait', async () => {
    expect(await new TokenBucket(0).take(1_000_000)).to.equal(true);
    const ac = new AbortController();
    const bucket = new TokenBucket(1, 1);
    await bucket.take(1);
    setTimeout(() => ac.abort(), 20);
    const t0 = performance.now();
    expect(await bucket.take(1, ac.signal)).to.equal(false);
    expect(performance.now() - t0).to.be.lessThan(500);
  });

  it('parses durations and names bad ones', () => {
    expect(parseDuration('10s')).to.equal(10_000);
    expect(parseDuration('1m')).to.equal(60_000);
    expect(parseDuration('500ms')).to.equal(500);
    expect(parseDuration('1 second')).to.equal(1000);
    expect(parseDuration('2h')).to.equal(7_200_000);
    expect(parseDuration('30')).to.equal(30_000);
    expect(parseDuration(1.5)).to.equal(1500);
    expect(() => parseDuration('soon', '--duration')).to.throw(/--duration.*soon/);
    expect(sparkInterval(10_000)).to.equal('10 seconds');
    expect(sparkInterval(1500)).to.equal('1500 milliseconds');
  });
});
