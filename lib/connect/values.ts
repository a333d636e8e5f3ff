// Exact JavaScript representations of Spark values that JS numbers/Dates cannot hold without loss:
// Decimal (unscaled bigint + scale), SparkDate (days since epoch), SparkTimestamp (microseconds since epoch),
// SparkTime (nanoseconds since midnight); spatial values (SparkGeometry, SparkGeography) keep the server's WKB.

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * A Spark decimal, exact: value = unscaled × 10^-scale. toString() prints every digit (Spark's toPlainString).
 * The scale is negative only for decimals made under `spark.sql.legacy.allowNegativeScaleOfDecimal`
 * (1.5E10BD is unscaled 15, scale -9).
 */
export class Decimal {
  // The unscaled value as two signed 32-bit halves (small integers: no heap object per value) when it fits
  // in 64 bits, as most do, else as a bigint in `big`; one form per value, so equal decimals compare equal.
  private lo = 0;
  private hi = 0;
  private big: bigint | null = null;
  readonly scale: number;

  constructor(unscaled: bigint, scale: number) {
    if (!Number.isInteger(scale)) throw new RangeError(`decimal scale must be an integer, got ${scale}`);
    this.scale = scale;
    if (unscaled !== 0n) {
      if (unscaled >= INT64_MIN && unscaled <= INT64_MAX) {
        this.lo = Number(BigInt.asIntN(32, unscaled));
        this.hi = Number(unscaled >> 32n);
      } else {
        this.big = unscaled;
      }
    }
  }

  /** @internal The decoder's path: an unscaled value that fits in 64 bits, from its 32-bit halves (no bigint made). */
  static fromHalves(lo: number, hi: number, scale: number): Decimal {
    const d = new Decimal(0n, scale);
    d.lo = lo | 0;
    d.hi = hi | 0;
    return d;
  }

  /** value = unscaled × 10^-scale. */
  get unscaled(): bigint {
    return this.big ?? (this.hi === 0 ? BigInt(this.lo >>> 0) : (BigInt(this.hi) << 32n) | BigInt(this.lo >>> 0));
  }

  /**
   * Parse '123.45', '-0.001', '1E+3'. With `scale`, the result has exactly that scale; digits beyond it are an
   * error (never silently rounded).
   */
  static fromString(text: string, scale?: number): Decimal {
    const m = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
    if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) throw new SyntaxError(`not a decimal number: ${JSON.stringify(text)}`);
    const intPart = m[2] ?? '';
    let frac = m[3] ?? '';
    const exp = m[4] ? Number(m[4]) : 0;
    let digits = intPart + frac;
    let s = frac.length - exp;
    if (s < 0) {
      digits += '0'.repeat(-s);
      s = 0;
    }
    let unscaled = BigInt(digits === '' ? '0' : digits);
    if (m[1] === '-') unscaled = -unscaled;
    frac = '';
    const d = new Decimal(unscaled, s);
    return scale === undefined ? d : d.withScale(scale);
  }

  static fromNumber(n: number, scale?: number): Decimal {
    if (!Number.isFinite(n)) throw new RangeError(`cannot represent ${n} as a decimal`);
    // String(n) is the shortest text that reads back as n: the decimal a person wrote.
    return Decimal.fromString(String(n), scale);
  }

  static from(value: Decimal | string | number | bigint, scale?: number): Decimal {
    if (value instanceof Decimal) return scale === undefined ? value : value.withScale(scale);
    if (typeof value === 'bigint') return new Decimal(value, 0).withScale(scale ?? 0);
    if (typeof value === 'number') return Decimal.fromNumber(value, scale);
    return Decimal.fromString(value, scale);
  }

  /** The same value at another scale; throws if that would drop non-zero digits. */
  withScale(scale: number): Decimal {
    if (scale === this.scale) return this;
    if (scale > this.scale) return new Decimal(this.unscaled * 10n ** BigInt(scale - this.scale), scale);
    const factor = 10n ** BigInt(this.scale - scale);
    if (this.unscaled % factor !== 0n)
      throw new RangeError(`${this.toString()} has more than ${scale} fractional digits; it would be rounded`);
    return new Decimal(this.unscaled / factor, scale);
  }

  /** Number of significant integer+fraction digits of the unscaled value (precision needed). */
  get precision(): number {
    const abs = this.unscaled < 0n ? -this.unscaled : this.unscaled;
    return Math.max(abs.toString().length, this.scale === 0 ? 1 : this.scale);
  }

  toString(): string {
    const neg = this.unscaled < 0n;
    const digits = (neg ? -this.unscaled : this.unscaled).toString();
    if (this.scale === 0) return (neg ? '-' : '') + digits;
    if (this.scale < 0) return digits === '0' ? '0' : (neg ? '-' : '') + digits + '0'.repeat(-this.scale);
    const padded = digits.padStart(this.scale + 1, '0');
    const cut = padded.length - this.scale;
    return (neg ? '-' : '') + padded.slice(0, cut) + '.' + padded.slice(cut);
  }

  /** Nearest double (may round: use toString() for the exact digits). */
  toNumber(): number {
    return Number(this.toString());
  }
  toJSON(): string {
    return this.toString();
  }
  valueOf(): string {
    return this.toString();
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Decimal(${this.toString()})`;
  }

  /** Numeric equality regardless of scale (1.50 equals 1.5). */
  equals(other: Decimal): boolean {
    const s = Math.max(this.scale, other.scale);
    return this.withScale(s).unscaled === other.withScale(s).unscaled;
  }
}

// ---- proleptic Gregorian calendar arithmetic (Spark 3+ uses it; correct before 1970 and before 1582) ----

function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** [year, month (1-12), day (1-31)] for a count of days since 1970-01-01. */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = floorDiv(z, 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return [y, m, d];
}

export function daysFromCivil(year: number, month: number, day: number): number {
  const y = year - (month <= 2 ? 1 : 0);
  const era = floorDiv(y, 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(year: number, month: number): number {
  return daysFromCivil(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1) - daysFromCivil(year, month, 1);
}

/** Years as java.time prints them: 4 digits, '+' above 9999, '-' before year 0. */
function yearString(y: number): string {
  if (y > 9999) return '+' + String(y);
  if (y < 0) return '-' + String(-y).padStart(4, '0');
  return String(y).padStart(4, '0');
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function dateString(days: number): string {
  const [y, m, d] = civilFromDays(days);
  return `${yearString(y)}-${pad2(m)}-${pad2(d)}`;
}

const DATE_RE = /^\s*([+-]?\d{4,})-(\d{1,2})-(\d{1,2})\s*$/;

function parseDateParts(y: string, m: string, d: string, text: string): number {
  const year = Number(y);
  const month = Number(m);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month))
    throw new RangeError(`not a valid date: ${JSON.stringify(text)}`);
  return daysFromCivil(year, month, day);
}

/** A Spark DATE: days since 1970-01-01 (negative before). */
export class SparkDate {
  constructor(readonly days: number) {
    if (!Number.isSafeInteger(days)) throw new RangeError(`date days must be an integer, got ${days}`);
  }
  static fromString(text: string): SparkDate {
    const m = DATE_RE.exec(text);
    if (!m) throw new SyntaxError(`not a date (YYYY-MM-DD): ${JSON.stringify(text)}`);
    return new SparkDate(parseDateParts(m[1]!, m[2]!, m[3]!, text));
  }
  static fromParts(year: number, month: number, day: number): SparkDate {
    return new SparkDate(parseDateParts(String(year), String(month), String(day), `${year}-${month}-${day}`));
  }
  /** The UTC calendar date of a JS Date. */
  static fromDate(date: Date): SparkDate {
    const ms = date.getTime();
    if (Number.isNaN(ms)) throw new RangeError('invalid Date');
    return new SparkDate(Math.floor(ms / 86_400_000));
  }
  get year(): number {
    return civilFromDays(this.days)[0];
  }
  get month(): number {
    return civilFromDays(this.days)[1];
  }
  get day(): number {
    return civilFromDays(this.days)[2];
  }
  /** Midnight UTC of this date. */
  toDate(): Date {
    return new Date(this.days * 86_400_000);
  }
  toString(): string {
    return dateString(this.days);
  }
  toJSON(): string {
    return this.toString();
  }
  equals(other: SparkDate): boolean {
    return this.days === other.days;
  }
}

const MICROS_PER_DAY = 86_400_000_000n;
const TS_RE =
  /^\s*([+-]?\d{4,})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*$/i;

/**
 * A Spark TIMESTAMP (an instant: microseconds since 1970-01-01T00:00:00Z) or, with `ntz`, a TIMESTAMP_NTZ (a wall
 * clock reading with no zone, counted the same way as if it were UTC).
 */
export class SparkTimestamp {
  // The int64 microseconds as two signed 32-bit halves: small integers, so a timestamp is one heap object
  // (a bigint field would be a second one per value, which decoding a million rows pays for in GC).
  private lo = 0;
  private hi = 0;
  readonly ntz: boolean;

  constructor(micros: bigint, ntz = false) {
    this.ntz = ntz;
    if (micros !== 0n) {
      if (micros < INT64_MIN || micros > INT64_MAX) throw new RangeError(`timestamp microseconds out of the 64-bit range: ${micros}`);
      this.lo = Number(BigInt.asIntN(32, micros));
      this.hi = Number(micros >> 32n);
    }
  }

  /** @internal The decoder's path: from the 32-bit halves of the int64 microseconds (no bigint made). */
  static fromHalves(lo: number, hi: number, ntz: boolean): SparkTimestamp {
    const t = new SparkTimestamp(0n, ntz);
    t.lo = lo | 0;
    t.hi = hi | 0;
    return t;
  }

  /** Microseconds since 1970-01-01T00:00:00 (UTC for a TIMESTAMP, the wall clock for a TIMESTAMP_NTZ). */
  get micros(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo >>> 0);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SparkTimestamp(${this.toISOString()})`;
  }

  /**
   * Parse ISO-8601 'YYYY-MM-DD[T| ]HH:MM[:SS[.ffffff]][Z|±HH:MM]'. An offset is applied for a TIMESTAMP; text
   * without one is read as UTC (this project's session time zone). A TIMESTAMP_NTZ keeps the wall clock and
   * rejects an offset.
   */
  static fromString(text: string, ntz = false): SparkTimestamp {
    const m = TS_RE.exec(text);
    if (!m) throw new SyntaxError(`not a timestamp (ISO-8601): ${JSON.stringify(text)}`);
    const days = parseDateParts(m[1]!, m[2]!, m[3]!, text);
    const h = Number(m[4] ?? 0);
    const mi = Number(m[5] ?? 0);
    const s = Number(m[6] ?? 0);
    if (h > 23 || mi > 59 || s > 59) throw new RangeError(`not a valid time: ${JSON.stringify(text)}`);
    const fracText = m[7] ?? '';
    if (fracText.length > 6 && /[1-9]/.test(fracText.slice(6)))
      throw new RangeError(`timestamp has sub-microsecond digits: ${JSON.stringify(text)}`);
    const frac = BigInt((fracText.slice(0, 6) || '0').padEnd(6, '0'));
    let micros = BigInt(days) * MICROS_PER_DAY + BigInt(h * 3600 + mi * 60 + s) * 1_000_000n + frac;
    const zone = m[8];
    if (zone && zone.toUpperCase() !== 'Z') {
      if (ntz) throw new SyntaxError(`a TIMESTAMP_NTZ has no time zone: ${JSON.stringify(text)}`);
      const sign = zone[0] === '-' ? -1n : 1n;
      const digits = zone.slice(1).replace(':', '');
      const offMinutes = BigInt(Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0));
      micros -= sign * offMinutes * 60_000_000n;
    } else if (zone && ntz) {
      throw new SyntaxError(`a TIMESTAMP_NTZ has no time zone: ${JSON.stringify(text)}`);
    }
    return new SparkTimestamp(micros, ntz);
  }

  /** From a JS Date (millisecond precision). For ntz, the Date's UTC fields are taken as the wall clock. */
  static fromDate(date: Date, ntz = false): SparkTimestamp {
    const ms = date.getTime();
    if (Number.isNaN(ms)) throw new RangeError('invalid Date');
    return new SparkTimestamp(BigInt(ms) * 1000n, ntz);
  }

  /** A JS Date; microseconds below the millisecond are dropped (floor). */
  toDate(): Date {
    const ms = this.micros >= 0n ? this.micros / 1000n : -((-this.micros + 999n) / 1000n);
    return new Date(Number(ms));
  }

  /** Microseconds within the second (0..999999). */
  get microsOfSecond(): number {
    const r = this.micros % 1_000_000n;
    return Number(r < 0n ? r + 1_000_000n : r);
  }

  /** 2024-02-29T23:59:59.123456Z (UTC) for a TIMESTAMP; 2024-02-29T23:59:59.123456 for a TIMESTAMP_NTZ. */
  toISOString(): string {
    let days = this.micros / MICROS_PER_DAY;
    let rem = this.micros % MICROS_PER_DAY;
    if (rem < 0n) {
      rem += MICROS_PER_DAY;
      days -= 1n;
    }
    const r = Number(rem);
    const secs = Math.floor(r / 1_000_000);
    const us = r - secs * 1_000_000;
    const time = `${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}.${String(us).padStart(6, '0')}`;
    return `${dateString(Number(days))}T${time}${this.ntz ? '' : 'Z'}`;
  }
  toString(): string {
    return this.toISOString();
  }
  toJSON(): string {
    return this.toISOString();
  }
  equals(other: SparkTimestamp): boolean {
    return this.lo === other.lo && this.hi === other.hi && this.ntz === other.ntz;
  }
}

const NANOS_PER_DAY = 86_400_000_000_000;
const TIME_RE = /^\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*$/;

/**
 * A Spark TIME (Spark 4.1+): a time of day without a date or zone, as nanoseconds since midnight. The count
 * is below 2^47, so a JS number holds it exactly. TIME(p) only limits the fractional digits Spark keeps (p ≤ 6
 * today); the value itself does not carry p.
 */
export class SparkTime {
  /** Nanoseconds since 00:00:00 (0 .. 86,399,999,999,999). */
  readonly nanosOfDay: number;

  constructor(nanosOfDay: number) {
    if (!Number.isSafeInteger(nanosOfDay) || nanosOfDay < 0 || nanosOfDay >= NANOS_PER_DAY)
      throw new RangeError(`time nanoseconds of the day must be an integer in 0..${NANOS_PER_DAY - 1}, got ${nanosOfDay}`);
    this.nanosOfDay = nanosOfDay;
  }

  /** From hours, minutes, seconds and nanoseconds within the second. */
  static fromParts(hour: number, minute: number, second = 0, nanosecond = 0): SparkTime {
    const ok = (v: number, max: number) => Number.isInteger(v) && v >= 0 && v <= max;
    if (!ok(hour, 23) || !ok(minute, 59) || !ok(second, 59) || !ok(nanosecond, 999_999_999))
      throw new RangeError(`not a valid time: ${hour}:${minute}:${second}.${nanosecond}`);
    return new SparkTime(((hour * 60 + minute) * 60 + second) * 1e9 + nanosecond);
  }

  /** Parse 'HH:MM[:SS[.fffffffff]]' (what Spark's TIME literal and CAST(... AS TIME) accept in that form). */
  static fromString(text: string): SparkTime {
    const m = TIME_RE.exec(text);
    if (!m) throw new SyntaxError(`not a time (HH:MM[:SS[.fffffffff]]): ${JSON.stringify(text)}`);
    const nanos = Number((m[4] ?? '').padEnd(9, '0'));
    return SparkTime.fromParts(Number(m[1]), Number(m[2]), Number(m[3] ?? 0), nanos);
  }

  /** From microseconds since midnight (a bigint or an integral number). */
  static fromMicros(micros: number | bigint): SparkTime {
    return new SparkTime(Number(micros) * 1000);
  }

  get hour(): number {
    return Math.floor(this.nanosOfDay / 3_600_000_000_000);
  }
  get minute(): number {
    return Math.floor(this.nanosOfDay / 60_000_000_000) % 60;
  }
  get second(): number {
    return Math.floor(this.nanosOfDay / 1_000_000_000) % 60;
  }
  /** Nanoseconds within the second (0..999,999,999). */
  get nanosecond(): number {
    return this.nanosOfDay % 1_000_000_000;
  }
  /** Microseconds since midnight, truncated (what Spark's TIME(6) holds). */
  get microsOfDay(): number {
    return Math.floor(this.nanosOfDay / 1000);
  }

  /**
   * 'HH:MM:SS' plus the fraction without trailing zeros, as Spark prints a TIME (CAST(t AS STRING)):
   * 12:34:56.789, 00:00:00, 23:59:59.999999.
   */
  toString(): string {
    const base = `${pad2(this.hour)}:${pad2(this.minute)}:${pad2(this.second)}`;
    const ns = this.nanosecond;
    return ns === 0 ? base : `${base}.${String(ns).padStart(9, '0').replace(/0+$/, '')}`;
  }
  toJSON(): string {
    return this.toString();
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SparkTime(${this.toString()})`;
  }
  equals(other: SparkTime): boolean {
    return this.nanosOfDay === other.nanosOfDay;
  }
}

/**
 * A Spark GEOMETRY or GEOGRAPHY value (Spark 4.1+) as the server sends it: the spatial reference id and the
 * shape as OGC Well-Known Binary. No geometry library is involved; parse `wkb` with one if needed.
 */
abstract class SpatialValue {
  constructor(
    /** Spatial reference id of this value (per value: a GEOMETRY(ANY) column mixes them). */
    readonly srid: number,
    /** The shape as OGC Well-Known Binary, exactly the server's bytes. */
    readonly wkb: Uint8Array,
  ) {
    if (!Number.isInteger(srid)) throw new RangeError(`srid must be an integer, got ${srid}`);
  }
  protected abstract get kind(): string;
  /** The WKB as hex text (WKB has no canonical text form without a geometry library). */
  get wkbHex(): string {
    return Buffer.from(this.wkb.buffer, this.wkb.byteOffset, this.wkb.byteLength).toString('hex');
  }
  toString(): string {
    return `${this.kind}(srid=${this.srid}, wkb=${this.wkbHex})`;
  }
  /** `{ srid, wkb }` with the WKB in base64, as binary values are in JSON. */
  toJSON(): { srid: number; wkb: string } {
    return { srid: this.srid, wkb: Buffer.from(this.wkb.buffer, this.wkb.byteOffset, this.wkb.byteLength).toString('base64') };
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
  equals(other: SpatialValue): boolean {
    return this.kind === other.kind && this.srid === other.srid && Buffer.compare(this.wkb, other.wkb) === 0;
  }
}

/** A Spark GEOMETRY value (Cartesian coordinates). */
export class SparkGeometry extends SpatialValue {
  protected get kind(): string {
    return 'Geometry';
  }
}

/** A Spark GEOGRAPHY value (longitude/latitude on the sphere). */
export class SparkGeography extends SpatialValue {
  protected get kind(): string {
    return 'Geography';
  }
}

/**
 * Set an own property, also for the key "__proto__" (which plain assignment would turn into a prototype
 * change): Spark column names and JSON keys can be any string.
 */
export function setOwn<T>(o: { [key: string]: T }, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

/** A Spark CalendarInterval (INTERVAL without year-month/day-time qualifier). */
export type CalendarInterval = { months: number; days: number; microseconds: bigint };

/**
 * A value as it comes back from Spark:
 * null | boolean | number (tinyint, smallint, int, float, double, year-month interval months) |
 * bigint (bigint, day-time interval microseconds) | string | Uint8Array (binary) | Decimal | SparkDate |
 * SparkTimestamp | SparkTime | SparkGeometry | SparkGeography | arrays | Map (map) | plain object (struct).
 */
export type SparkValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Decimal
  | SparkDate
  | SparkTimestamp
  | SparkTime
  | SparkGeometry
  | SparkGeography
  | SparkValue[]
  | Map<SparkValue, SparkValue>
  | { [key: string]: SparkValue };
