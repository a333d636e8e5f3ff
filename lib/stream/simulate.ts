import { PHYSICAL_BOUNDS, READING_FIELDS, type Metric, type ReadingField, type SensorReading } from './sensors';

/**
 * Deterministic, seeded IoT sensor simulation. The same seed, options and sequence of `next(now)` calls give
 * the same events, byte for byte.
 *
 * Signals: a daily temperature cycle (warmest mid-afternoon) with humidity moving against it, a slow
 * per-sensor drift, a pressure system that wanders slowly per site, gaussian noise and a draining battery.
 * Readings are quantized to 1/16 of a unit (the resolution of common 12-bit sensor ADCs): every value is
 * then an exact binary fraction, so sums and averages are exact whatever order Spark adds them in.
 */

export type EventKind =
  | 'normal'
  | 'late'
  /** In bounds, far from the window: raises a zscore alert. */
  | 'spike'
  /** Physically impossible value: DLQ (out_of_bounds) and an out_of_bounds alert. */
  | 'out_of_bounds'
  /** Malformed: DLQ only. */
  | 'not_json'
  | 'missing_field'
  | 'wrong_type';

export const MALFORMED_KINDS: ReadonlyArray<EventKind> = ['not_json', 'missing_field', 'wrong_type'];

export interface SimulatedEvent {
  key: string;
  /** The Kafka message value, exactly as sent. */
  value: string;
  kind: EventKind;
  /** The reading behind the value (for malformed values: the reading before it was damaged). */
  reading: SensorReading;
  /** The damaged field (missing_field, wrong_type) or the anomalous metric (spike, out_of_bounds). */
  field?: ReadingField;
}

export interface SimulationOptions {
  sensors: number;
  seed: number;
  /** Probability that a reading is an anomaly (3 spikes in 4, else physically out of bounds). */
  anomalyRate: number;
  /** Probability that a reading is late: its event time is 1 ms..maxLatenessMs before `now`. */
  lateRate: number;
  maxLatenessMs: number;
  /** Probability that a record is malformed (not JSON, a missing field, or a wrong type). */
  malformedRate: number;
  /** Number of sites the sensors are spread over (round robin). Default 5. */
  sites?: number;
  /** Keep every event in `events` (tests, expected aggregates). Default false. */
  record?: boolean;
}

export const DEFAULT_SIMULATION: Omit<SimulationOptions, 'sensors' | 'seed'> = {
  anomalyRate: 0.001,
  lateRate: 0.01,
  maxLatenessMs: 30_000,
  malformedRate: 0.001,
};

/** mulberry32: a small, fast 32-bit seeded generator; plenty for a simulation (not for cryptography). */
export class SeededRandom {
  private state: number;
  private spareGaussian: number | undefined;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  int(lo: number, hiInclusive: number): number {
    return lo + Math.floor(this.next() * (hiInclusive - lo + 1));
  }

  pick<T>(items: ReadonlyArray<T>): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Standard normal (Box–Muller, both values used). */
  gaussian(): number {
    if (this.spareGaussian !== undefined) {
      const g = this.spareGaussian;
      this.spareGaussian = undefined;
      return g;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareGaussian = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/** Quantize to the sensor resolution (1/16 unit): exact in binary and in decimal JSON. */
export const quantize = (x: number): number => Math.round(x * 16) / 16;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

interface SensorModel {
  id: string;
  site: string;
  siteIndex: number;
  temperatureBase: number;
  /** °C per hour, small. */
  driftPerHour: number;
  humidityBase: number;
  batteryStart: number;
  seq: number;
}

/** Per-site climate: a base temperature and a pressure system phase. */
interface SiteModel {
  temperatureOffset: number;
  pressureBase: number;
  pressurePhase: number;
}

/** The sensor id of sensor i (0-based): sensor-001 ... (padded to 3 digits, more when there are more). */
export function sensorId(i: number, sensors: number): string {
  return `sensor-${String(i + 1).padStart(Math.max(3, String(sensors).length), '0')}`;
}

export class SensorSimulator {
  readonly options: Required<SimulationOptions>;
  /** Every event produced so far, when `record` is on. */
  readonly events: SimulatedEvent[] = [];
  private readonly rng: SeededRandom;
  private readonly sensors: SensorModel[];
  private readonly sites: SiteModel[];
  /** Anchor of the drift: the first `now` seen. */
  private epoch: number | undefined;
  private cursor = 0;
  readonly counts: Record<EventKind, number> = {
    normal: 0,
    late: 0,
    spike: 0,
    out_of_bounds: 0,
    not_json: 0,
    missing_field: 0,
    wrong_type: 0,
  };

  constructor(options: SimulationOptions) {
    if (!Number.isInteger(options.sensors) || options.sensors < 1)
      throw new RangeError(`sensors must be a positive integer, got ${options.sensors}`);
    for (const k of ['anomalyRate', 'lateRate', 'malformedRate'] as const) {
      if (!(options[k] >= 0 && options[k] <= 1)) throw new RangeError(`${k} must be within [0, 1], got ${options[k]}`);
    }
    if (options.anomalyRate + options.lateRate + options.malformedRate > 1)
      throw new RangeError('anomalyRate + lateRate + malformedRate must not exceed 1');
    if (!(options.maxLatenessMs >= 1)) throw new RangeError(`maxLatenessMs must be >= 1, got ${options.maxLatenessMs}`);
    this.options = { sites: 5, record: false, ...options };
    this.rng = new SeededRandom(options.seed);
    const siteCount = Math.max(1, Math.min(this.options.sites, options.sensors));
    this.sites = Array.from({ length: siteCount }, () => ({
      temperatureOffset: this.rng.uniform(-4, 4),
      pressureBase: this.rng.uniform(1000, 1025),
      pressurePhase: this.rng.uniform(0, 2 * Math.PI),
    }));
    this.sensors = Array.from({ length: options.sensors }, (_, i) => ({
      id: sensorId(i, options.sensors),
      site: `site-${String((i % siteCount) + 1).padStart(2, '0')}`,
      siteIndex: i % siteCount,
      temperatureBase: 21 + this.rng.uniform(-1.5, 1.5),
      driftPerHour: this.rng.uniform(-0.05, 0.05),
      humidityBase: this.rng.uniform(40, 60),
      batteryStart: this.rng.uniform(60, 100),
      seq: 0,
    }));
  }

  get sensorIds(): string[] {
    return this.sensors.map((s) => s.id);
  }

  /**
   * The next event. Sensors take turns (round robin); `now` is the event time of an on-time reading
   * (wall-clock time for a live producer, a synthetic clock in tests).
   */
  next(now: number): SimulatedEvent {
    return this.nextFor(this.cursor++ % this.sensors.length, now);
  }

  /** The next event of sensor `index` (0-based) at event time `now`, with the configured random faults. */
  nextFor(index: number, now: number): SimulatedEvent {
    const o = this.options;
    const u = this.rng.next();
    let kind: EventKind;
    if (u < o.malformedRate) kind = this.rng.pick(MALFORMED_KINDS);
    else if (u < o.malformedRate + o.anomalyRate) kind = this.rng.next() < 0.75 ? 'spike' : 'out_of_bounds';
    else if (u < o.malformedRate + o.anomalyRate + o.lateRate) kind = 'late';
    else kind = 'normal';
    return this.make(index, now, kind);
  }

  /** An event of a chosen kind (tests place faults exactly). `now` is its event time, except for late events. */
  make(index: number, now: number, kind: EventKind, latenessMs?: number): SimulatedEvent {
    if (this.epoch === undefined) this.epoch = now;
    const sensor = this.sensors[index];
    const ts = kind === 'late' ? now - (latenessMs ?? Math.max(1, Math.round(this.rng.uniform(1, this.options.maxLatenessMs)))) : now;
    const reading = this.reading(sensor, ts);
    let field: ReadingField | undefined;
    let value: string;
    switch (kind) {
      case 'spike': {
        const metric = this.rng.pick(['temperature', 'humidity', 'pressure'] as const);
        reading[metric] = this.spike(metric, reading[metric]);
        field = metric;
        value = JSON.stringify(reading);
        break;
      }
      case 'out_of_bounds': {
        const metric = this.rng.pick(['temperature', 'humidity', 'pressure', 'battery'] as const);
        const b = PHYSICAL_BOUNDS[metric];
        const span = b.max - b.min;
        reading[metric] = quantize(
          this.rng.next() < 0.5 ? b.min - this.rng.uniform(0.1, 0.5) * span : b.max + this.rng.uniform(0.1, 0.5) * span,
        );
        field = metric;
        value = JSON.stringify(reading);
        break;
      }
      case 'not_json': {
        const text = JSON.stringify(reading);
        // Cut before the closing brace (always invalid) or send plain text.
        value =
          this.rng.next() < 0.5
            ? text.slice(0, this.rng.int(1, text.length - 2))
            : `${reading.sensor_id} t=${reading.temperature} h=${reading.humidity}`;
        break;
      }
      case 'missing_field': {
        field = this.rng.pick(READING_FIELDS).name;
        const copy: Partial<SensorReading> = { ...reading };
        delete copy[field];
        value = JSON.stringify(copy);
        break;
      }
      case 'wrong_type': {
        field = this.rng.pick(['ts', 'temperature', 'humidity', 'pressure', 'battery', 'seq'] as const);
        const wrong = field === 'ts' ? new Date(reading.ts).toISOString() : this.rng.pick(['n/a', 'ERR', String(reading[field])]);
        value = JSON.stringify({ ...reading, [field]: wrong });
        break;
      }
      default:
        value = JSON.stringify(reading);
    }
    this.counts[kind]++;
    const event: SimulatedEvent = { key: sensor.id, value, kind, reading, ...(field ? { field } : {}) };
    if (this.options.record) this.events.push(event);
    return event;
  }

  private reading(sensor: SensorModel, ts: number): SensorReading {
    const site = this.sites[sensor.siteIndex];
    const hours = (ts - (this.epoch ?? ts)) / HOUR_MS;
    // Warmest around 15:00 UTC, coldest around 03:00.
    const dayPhase = (2 * Math.PI * (((ts % DAY_MS) + DAY_MS) % DAY_MS)) / DAY_MS - (2 * Math.PI * 9) / 24;
    const cycle = Math.sin(dayPhase);
    const temperature =
      sensor.temperatureBase + site.temperatureOffset + 5 * cycle + sensor.driftPerHour * hours + 0.2 * this.rng.gaussian();
    const humidity = sensor.humidityBase - 12 * cycle + 1 * this.rng.gaussian();
    const pressure = site.pressureBase + 6 * Math.sin(site.pressurePhase + (2 * Math.PI * ts) / (3 * DAY_MS)) + 0.3 * this.rng.gaussian();
    // About 1 % per 10,000 readings, never below 5 %.
    const battery = Math.max(5, sensor.batteryStart - sensor.seq / 10_000);
    const seq = sensor.seq++;
    return {
      sensor_id: sensor.id,
      site: sensor.site,
      ts,
      temperature: clampQuantized(temperature, 'temperature'),
      humidity: clampQuantized(humidity, 'humidity'),
      pressure: clampQuantized(pressure, 'pressure'),
      battery: clampQuantized(battery, 'battery'),
      seq,
    };
  }

  /** A big in-bounds deviation: 8–15 °C, 15–30 % humidity, 10–20 hPa, away from the nearer bound. */
  private spike(metric: 'temperature' | 'humidity' | 'pressure', value: number): number {
    const size = { temperature: [8, 15], humidity: [15, 30], pressure: [10, 20] }[metric];
    const delta = this.rng.uniform(size[0], size[1]);
    const b = PHYSICAL_BOUNDS[metric];
    const up = value + delta <= b.max && (value - delta < b.min || this.rng.next() < 0.5);
    return quantize(up ? value + delta : value - delta);
  }
}

function clampQuantized(x: number, metric: Metric): number {
  const b = PHYSICAL_BOUNDS[metric];
  return quantize(Math.min(b.max, Math.max(b.min, x)));
}
